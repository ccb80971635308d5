// What the pages the browser tests drive expose on `window`, typed once for the functions the tests
// run in them with `page.evaluate`:
// - `telemed`: the dev call page's handle (demo-app/src/dev/call.ts). The page sets it when it loads
//   and its `room` when it joins; the tests read the room after `joinPage` has waited for that, so
//   `room` is typed as present (a test that reads it earlier writes `room?.`). Probes that also run on
//   pages without the handle (the apps' pages) read `window.telemed?.room`: the `?.` is for run time.
// - `sdk`: the SDK's browser bundle on a page the SDK site loaded it into (calls/sdk-site.ts).
// A global a single test adds for itself is typed where it is used, as `window as typeof window & {...}`.
// Pages built on the SDK site that mimic the dev call page keep a `telemed` handle of their own shape
// (scale/*.test.ts, deploy/turn.test.ts) and cast through unknown.
import type * as Sdk from '@telemed/sdk';
import type { PageHandle } from './calls/harness.js';

declare global {
  interface Window {
    telemed: PageHandle;
    sdk: typeof Sdk;
  }
}
