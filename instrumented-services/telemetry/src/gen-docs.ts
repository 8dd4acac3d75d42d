// `npm run gen -w @lookout/telemetry`: writes docs/telemetry.md from the contract.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { telemetryDoc } from './docs.js';

const file = path.resolve(__dirname, '../../../../docs/telemetry.md');
writeFileSync(file, telemetryDoc());
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
