// typescript-eslint reads types through TypeScript's JavaScript compiler API, which TypeScript 7 (the project's own
// `typescript`, a native compiler) no longer ships; its peer range stops below 6.1. This package depends on both
// typescript-eslint and typescript 6, so npm installs them together under tools/lint/node_modules: there
// typescript-eslint's `require('typescript')` finds 6, while `tsc` everywhere else stays 7. Remove this package and
// depend on typescript-eslint directly once a release supports TypeScript 7.
export { default } from 'typescript-eslint';
