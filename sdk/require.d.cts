/**
 * @telemed/sdk is published as ES modules only: `import { Room } from '@telemed/sdk'`, or
 * `await import('@telemed/sdk')` from CommonJS. A `require()` throws an error that says so.
 */
declare const esmOnly: { readonly useImportInstead: '@telemed/sdk is ESM-only: import it instead of require()' };
export = esmOnly;
