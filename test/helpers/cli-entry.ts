// Runs the CLI from its TypeScript sources (spawned by tests with `node --import tsx`).
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
