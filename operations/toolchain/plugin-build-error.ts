import { ValidationError, type ValidationIssue } from '../../errors/index.js';

/** One problem `dvx plugin build` found: where (file, JSON pointer or line) and what would fix it. */
export interface PluginBuildIssue extends ValidationIssue {
  /** The file, relative to the plugin directory (`plugin.yml`, `schema.json`, `src/index.ts`). */
  file: string;
  /** 1-based line, for problems in source files. */
  line?: number;
  /** 1-based column, with `line`. */
  column?: number;
  /** What to change so that the problem goes away. */
  fix?: string;
}

/**
 * One line per issue: `file:line:column: message` for sources, `file#/pointer: message` for plugin.yml and schema.json,
 * `file: message` for a whole file.
 */
export function formatBuildIssue(issue: PluginBuildIssue): string {
  const where =
    issue.line !== undefined
      ? `${issue.file}:${issue.line}${issue.column !== undefined ? `:${issue.column}` : ''}`
      : issue.pointer
        ? `${issue.file}#${issue.pointer}`
        : issue.file;
  return `${where}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ''}`;
}

/** The problems that stopped a plugin build (all of them found at that stage, not just the first). */
export class PluginBuildError extends ValidationError {
  declare readonly issues: PluginBuildIssue[];
  constructor(dir: string, stage: string, issues: PluginBuildIssue[]) {
    const count = issues.length === 1 ? '1 error' : `${issues.length} errors`;
    super(
      `Plugin ${dir} failed ${stage} with ${count}:\n${issues.map((issue) => `  ${formatBuildIssue(issue)}`).join('\n')}`,
      issues,
      {
        action:
          'Fix each error above (file, JSON pointer or line, and what to change), then run `dvx plugin build` again.',
        details: { dir, stage },
      },
    );
  }
}
