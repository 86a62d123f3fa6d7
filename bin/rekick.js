#!/usr/bin/env node
// Runs rekick's TypeScript sources through tsx, so the installed package needs no build step.
import { register } from 'tsx/esm/api';
register();
await import('./cli.ts');
