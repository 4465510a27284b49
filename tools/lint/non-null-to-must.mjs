#!/usr/bin/env node
// Rewrites `value!` to `must(value, 'value')` (test/harness/must.ts) in test and bench files, and adds the import:
// the mechanical part of clearing @typescript-eslint/no-non-null-assertion there. Sources are left alone (must() is
// a test helper; a source needs a real check). Usage: node tools/lint/non-null-to-must.mjs FILE...; then run
// prettier --write on the files, tsc --noEmit, and the tests they hold.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const helper = resolve(root, 'test', 'harness', 'must.ts');

/** A non-null expression that must() cannot wrap: the target of an assignment (`x! = 1`, `x!++`). */
function isAssignmentTarget(node) {
  const parent = node.parent;
  if (ts.isBinaryExpression(parent) && parent.left === node) {
    return (
      parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment
    );
  }
  return ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent);
}

function label(text) {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const short = oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
  return `'${short.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function rewrite(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let count = 0;
  // The text of `node` with every non-null expression inside it rewritten, innermost first.
  const render = (node) => {
    const start = node.getStart(source);
    let out = text.slice(start, node.end);
    const inner = [];
    const collect = (child) => {
      if (ts.isNonNullExpression(child) && !isAssignmentTarget(child)) inner.push(child);
      else ts.forEachChild(child, collect);
    };
    ts.forEachChild(node, collect);
    for (const child of inner.reverse()) {
      const childStart = child.getStart(source);
      out = `${out.slice(0, childStart - start)}${wrap(child)}${out.slice(child.end - start)}`;
    }
    return out;
  };
  const wrap = (node) => {
    count += 1;
    const operand = render(node.expression);
    return `must(${operand}, ${label(node.expression.getText(source))})`;
  };
  let body = render(source);
  if (count === 0) return 0;
  if (!/import \{[^}]*\bmust\b[^}]*\} from '[^']*harness\/must\.js';/.test(body)) {
    let path = relative(dirname(resolve(file)), helper).replace(/\.ts$/, '.js');
    if (!path.startsWith('.')) path = `./${path}`;
    const imports = source.statements.filter(ts.isImportDeclaration);
    const line = `import { must } from '${path}';\n`;
    const after = imports.length ? imports.at(-1).end - source.getStart(source) : 0;
    body = imports.length ? `${body.slice(0, after)}\n${line.trimEnd()}${body.slice(after)}` : `${line}${body}`;
  }
  writeFileSync(file, `${text.slice(0, source.getStart(source))}${body}${text.slice(source.end)}`);
  return count;
}

let total = 0;
for (const file of process.argv.slice(2)) {
  const count = rewrite(file);
  if (count) process.stdout.write(`${file}: ${count}\n`);
  total += count;
}
process.stdout.write(`${total} non-null assertions rewritten\n`);
