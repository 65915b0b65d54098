/** Benchmark child doing nothing: the RSS and CPU floor of a Node process, the baseline of the connector's idle figures. */
import { serveChild } from './child.js';

serveChild<Record<string, never>, Record<string, never>>(async () => ({ info: {}, stop: async () => undefined }));
