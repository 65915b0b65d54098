/** Where a connector CPU profile's time went. Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top] */
import { formatProfileSummary, summariseProfile } from './harness/profile.js';

const [path, top] = process.argv.slice(2);
if (path === undefined) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exitCode = 2;
} else console.log(formatProfileSummary(summariseProfile(path, top === undefined ? 25 : Number(top))));
