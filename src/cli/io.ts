/** What a CLI command reads and writes, so that commands never reach for `process` streams directly. */

/** A writable text sink. */
export interface TextSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** The streams and environment a command runs with. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
