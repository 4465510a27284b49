import type { TourPlugin } from './tour.js';

/** The tour's use of plugins/dirtree (staged): a directory path as source config, a mount location per VDB. */
export const DIRTREE_TOUR_PLUGIN: Omit<TourPlugin, 'artifactPath'> = {
  sourceConfig: (path, name) => ({ path, name }),
  linkParameters: (stagingPath) => ({ mountLocation: stagingPath }),
  vdbParameters: (mountPath) => ({ mountLocation: mountPath }),
};

/** The tour's use of plugins/dirsync (direct, runSync). */
export const DIRSYNC_TOUR_PLUGIN: Omit<TourPlugin, 'artifactPath'> = {
  sourceConfig: (path, name) => ({ path, name }),
  linkParameters: () => ({}),
  vdbParameters: (mountPath) => ({ mountLocation: mountPath }),
};
