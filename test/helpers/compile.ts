/** Type-checks TypeScript files in-process with the compiler API and returns the diagnostics as text lines. */
import ts from 'typescript';

/** Compiler options the way a tsconfig.json `compilerOptions` block spells them. */
export type JsonCompilerOptions = Record<string, unknown>;

/** Type-checks `files` (no output) and returns one `file(line,col): TSnnnn message` line per diagnostic. */
export function typeCheck(files: string[], compilerOptions: JsonCompilerOptions, baseDir: string): string[] {
  const { options, errors } = ts.convertCompilerOptionsFromJson({ ...compilerOptions, noEmit: true }, baseDir);
  if (errors.length > 0) return errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return `TS${d.code} ${text}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}(${line + 1},${character + 1}): TS${d.code} ${text}`;
  });
}
