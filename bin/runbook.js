#!/usr/bin/env node
// The `runbook` command. The CLI is TypeScript run through tsx, so there is no build step between
// editing a check and running it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
