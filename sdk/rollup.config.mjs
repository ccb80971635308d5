// Bundles the tsc output (dist/esm) into minified ESM (types: dist/types, from tsc):
//   dist/telemed-sdk.mjs          for bundlers and npm users; mediasoup-client stays a dependency
//   dist/telemed-sdk.browser.mjs  self-contained, for a <script type="module"> (see examples/embed.html)
// The size budget is checked by tests/src/calls/sdk-package.test.ts.
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const input = 'dist/esm/index.js';
// Keep class names: errors are identified by `name` in logs and by apps.
const minify = () => terser({ ecma: 2020, module: true, keep_classnames: true, format: { comments: false } });

export default [
  {
    input,
    external: (id) => id === 'mediasoup-client' || id.startsWith('mediasoup-client/'),
    plugins: [minify()],
    output: { file: 'dist/telemed-sdk.mjs', format: 'es', sourcemap: true },
  },
  {
    input,
    plugins: [nodeResolve({ browser: true, preferBuiltins: false }), commonjs(), minify()],
    output: { file: 'dist/telemed-sdk.browser.mjs', format: 'es', sourcemap: true },
    onwarn(warning, warn) {
      // debug (a mediasoup-client dependency) has a harmless circular import.
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
    },
  },
];
