// Bundles the tsc output (dist/esm) into:
//   dist/telemed-sdk.mjs          ESM for bundlers and npm users; mediasoup-client stays a dependency
//   dist/telemed-sdk.browser.mjs  self-contained ESM for a <script type="module"> (the embedding example)
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const input = 'dist/esm/index.js';

export default [
  {
    input,
    external: (id) => id === 'mediasoup-client' || id.startsWith('mediasoup-client/'),
    output: { file: 'dist/telemed-sdk.mjs', format: 'es', sourcemap: true },
  },
  {
    input,
    plugins: [nodeResolve({ browser: true, preferBuiltins: false }), commonjs()],
    output: { file: 'dist/telemed-sdk.browser.mjs', format: 'es', sourcemap: true },
    onwarn(warning, warn) {
      // debug (a mediasoup-client dependency) has a harmless circular import.
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
    },
  },
];
