/**
 * Side-effect module the connector child imports first: the heap flags `cftunnel` (bin/cftunnel.js) sets for itself,
 * so the bench measures what a user running the CLI gets. `CFT_BENCH_CONNECTOR_HEAP=library` leaves V8's defaults,
 * i.e. what the library gets inside a host process that sets nothing.
 */
import { applyCliHeapFlags } from '../../src/cli/heap-flags.js';

// No restart: this child talks to the driver over an IPC channel a replaced process image would not keep.
if (process.env.CFT_BENCH_CONNECTOR_HEAP !== 'library') applyCliHeapFlags({ execve: undefined });
