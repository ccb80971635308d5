// Bundles mediasoup-client for the baseline page with the same rollup plugins the SDK's browser
// bundle uses (sdk/rollup.config.mjs), so both pages run the same mediasoup-client build.
import commonjsImport from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';

// The plugin ships ESM at run time but CommonJS-style types: take the default whichever way it comes.
const commonjs = ((commonjsImport as unknown as { default?: unknown }).default ?? commonjsImport) as typeof commonjsImport.default;

export async function bundleMediasoupClient(): Promise<string> {
  const input = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mediasoup-client-entry.js');
  const bundle = await rollup({
    input,
    plugins: [nodeResolve({ browser: true, preferBuiltins: false }), commonjs()],
    onwarn: (warning, warn) => {
      if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
    },
  });
  const { output } = await bundle.generate({ format: 'es' });
  await bundle.close();
  return output[0].code;
}
