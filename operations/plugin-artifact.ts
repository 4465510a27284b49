// The artifact format lives in schemas/ so that model/ can type the stored artifact; operations/ keeps its old name.
export * from '../schemas/plugin-artifact.js';
