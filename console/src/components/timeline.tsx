// A dSource's or VDB's history as a picture: one lane per timeflow (oldest at the top), its snapshots as marks in the
// order they were taken, and a branch from the snapshot a timeflow started from (a rewind or refresh) when that
// snapshot is this object's. Marks are buttons: click, Enter or Space picks one.
import { href } from '../router.js';
import type { Bookmark, Snapshot } from '../types.js';
import type { TimeflowRecord } from '../../../model/timeflow.js';

const LANE = 60;
const COLUMN = 64;
const GUTTER = 150;
const TOP = 36;

export interface TimelineProps {
  snapshots: Snapshot[];
  timeflows: TimeflowRecord[];
  currentTimeflowId: string | null;
  selected: string | null;
  onSelect: (snapshot: Snapshot) => void;
  /** Where the object's first timeflow came from when that is another object's snapshot. */
  origin?: string;
  /** Named snapshots: a flag over their mark. */
  bookmarks?: Bookmark[];
  /** VDBs provisioned from these snapshots: their names under the mark, linked to their pages. */
  provisioned?: { id: string; name: string; snapshotId: string }[];
}

function shortTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function Timeline(props: TimelineProps) {
  const { snapshots, timeflows, currentTimeflowId, selected, onSelect, origin } = props;
  const bookmarks = props.bookmarks ?? [];
  const provisioned = props.provisioned ?? [];
  const ordered = [...snapshots].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const column = new Map(ordered.map((snapshot, index) => [snapshot.id, index + 1]));
  // Lanes: the recorded timeflows, then any a snapshot names that is not among them (older engines).
  const laneIds = timeflows.map((timeflow) => timeflow.id);
  for (const snapshot of ordered) if (!laneIds.includes(snapshot.timeflowId)) laneIds.push(snapshot.timeflowId);
  if (currentTimeflowId && !laneIds.includes(currentTimeflowId)) laneIds.push(currentTimeflowId);
  const lane = new Map(laneIds.map((id, index) => [id, index]));
  const lastColumn = ordered.length + 1;
  const width = GUTTER + COLUMN * (lastColumn + 0.5);
  const height = TOP + LANE * Math.max(laneIds.length, 1) + (provisioned.length ? 12 : 0);
  const x = (col: number) => GUTTER + col * COLUMN;
  const y = (index: number) => TOP + index * LANE + LANE / 2;

  return (
    <div class="timeline" role="group" aria-label="Timeline: timeflows and their snapshots">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        xmlns="http://www.w3.org/2000/svg"
        aria-hidden="false"
      >
        <title>Timeflows as lanes, snapshots as marks, oldest on the left</title>
        {laneIds.map((id, index) => {
          const timeflow = timeflows.find((candidate) => candidate.id === id);
          const parentColumn = timeflow?.parentSnapshotId ? column.get(timeflow.parentSnapshotId) : undefined;
          const start = parentColumn !== undefined ? parentColumn + 0.5 : 0.3;
          const own = ordered.filter((snapshot) => snapshot.timeflowId === id);
          const isCurrent = id === currentTimeflowId;
          const end = isCurrent ? lastColumn : Math.max(start, ...own.map((snapshot) => column.get(snapshot.id) ?? 0));
          const parent = ordered.find((snapshot) => snapshot.id === timeflow?.parentSnapshotId);
          const label = `${timeflow?.creationType.toLowerCase() ?? 'timeflow'}${isCurrent ? ' (current)' : ''}`;
          return (
            <g class={`lane${isCurrent ? ' lane-current' : ''}`} key={id} data-timeflow-id={id}>
              <text x={8} y={y(index) + 4} class="lane-label">
                {label}
              </text>
              <line x1={x(start)} y1={y(index)} x2={x(end)} y2={y(index)} class="lane-line" />
              {parent && (
                <path
                  class="branch"
                  d={`M ${x(column.get(parent.id) ?? 0)} ${y(lane.get(parent.timeflowId) ?? 0)} C ${x(start)} ${y(lane.get(parent.timeflowId) ?? 0)}, ${x(start - 0.4)} ${y(index)}, ${x(start)} ${y(index)}`}
                />
              )}
              {isCurrent && (
                <polygon
                  class="lane-head"
                  points={`${x(end)},${y(index) - 6} ${x(end) + 10},${y(index)} ${x(end)},${y(index) + 6}`}
                />
              )}
            </g>
          );
        })}
        {ordered.map((snapshot) => {
          const cx = x(column.get(snapshot.id) ?? 0);
          const cy = y(lane.get(snapshot.timeflowId) ?? 0);
          const isSelected = snapshot.id === selected;
          const names = bookmarks.filter((bookmark) => bookmark.snapshotId === snapshot.id).map((b) => b.name);
          const pick = () => onSelect(snapshot);
          return (
            <g
              key={snapshot.id}
              class={`mark${isSelected ? ' mark-selected' : ''}`}
              role="button"
              tabindex={0}
              aria-pressed={isSelected}
              aria-label={`Snapshot taken ${new Date(snapshot.createdAt).toLocaleString()} (${snapshot.id})${names.length ? `, bookmarked ${names.join(', ')}` : ''}`}
              data-snapshot-id={snapshot.id}
              onClick={pick}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  pick();
                }
              }}
            >
              <circle cx={cx} cy={cy} r={isSelected ? 10 : 8} />
              {names.length > 0 && (
                <g class="bookmark">
                  <polygon points={`${cx},${cy - 9} ${cx + 5},${cy - 4} ${cx},${cy + 1} ${cx - 5},${cy - 4}`} />
                  <text x={cx} y={cy - 26} class="bookmark-name">
                    {names.join(', ')}
                  </text>
                </g>
              )}
              <text x={cx} y={cy - 14} class="mark-time">
                {shortTime(snapshot.createdAt)}
              </text>
            </g>
          );
        })}
        {provisioned.map((child, index) => {
          const snapshot = ordered.find((candidate) => candidate.id === child.snapshotId);
          if (!snapshot) return null;
          const cx = x(column.get(snapshot.id) ?? 0);
          const cy = y(lane.get(snapshot.timeflowId) ?? 0);
          const siblings = provisioned.slice(0, index).filter((other) => other.snapshotId === child.snapshotId).length;
          return (
            <a key={child.id} href={href('vdbs', child.id)} class="child">
              <text x={cx} y={cy + 22 + siblings * 12} class="child-name">
                ↳ {child.name}
              </text>
            </a>
          );
        })}
        {origin && (
          <text x={8} y={16} class="origin">
            {origin}
          </text>
        )}
      </svg>
    </div>
  );
}
