// @telemed/sdk is published as ES modules only. A require() lands here and explains what to do.
throw new Error(
  "@telemed/sdk is an ES module and cannot be loaded with require(). Use `import { Room } from '@telemed/sdk'`, " +
    "or `const { Room } = await import('@telemed/sdk')` from CommonJS; bundlers pick the ESM build by themselves " +
    '(see "Installing" in the package README).',
);
