/**
 * Parser for the text `capnp decode` prints (the `.txt` beside each vector), enough for the structs, lists, texts
 * and enums of the tunnel schemas. Lines starting with `#` are the recorder's comments.
 */

/** A decoded value: struct (object), list (array), text or enum name (string), number or bool. */
export type CapnpTextValue = string | number | boolean | CapnpTextValue[] | { [field: string]: CapnpTextValue };

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "'": 39,
  '"': 34,
  '\\': 92,
};

/** Parses one value printed by `capnp decode`. */
export function parseCapnpText(source: string): CapnpTextValue {
  const text = source
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
  let pos = 0;

  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (ch: string): void => {
    skipSpace();
    if (text[pos] !== ch) throw new Error(`expected ${ch} at ${pos}: ${text.slice(pos, pos + 20)}`);
    pos++;
  };
  const readString = (): string => {
    pos++; // opening quote
    const bytes: number[] = [];
    for (;;) {
      const ch = text[pos++];
      if (ch === undefined) throw new Error('unterminated string');
      if (ch === '"') break;
      if (ch !== '\\') {
        bytes.push(...Buffer.from(ch, 'utf8'));
        continue;
      }
      const esc = text[pos++]!;
      if (esc === 'x') {
        bytes.push(parseInt(text.slice(pos, pos + 2), 16));
        pos += 2;
      } else if (SIMPLE_ESCAPES[esc] !== undefined) {
        bytes.push(SIMPLE_ESCAPES[esc]);
      } else {
        throw new Error(`unknown escape \\${esc}`);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  };
  const readValue = (): CapnpTextValue => {
    skipSpace();
    const ch = text[pos];
    if (ch === '"') return readString();
    if (ch === '[') {
      pos++;
      const items: CapnpTextValue[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return items;
      }
      for (;;) {
        items.push(readValue());
        skipSpace();
        if (text[pos] === ',') pos++;
        else break;
      }
      expect(']');
      return items;
    }
    if (ch === '(') {
      pos++;
      const fields: { [field: string]: CapnpTextValue } = {};
      skipSpace();
      if (text[pos] === ')') {
        pos++;
        return fields;
      }
      for (;;) {
        skipSpace();
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos))![0];
        pos += name.length;
        expect('=');
        fields[name] = readValue();
        skipSpace();
        if (text[pos] === ',') pos++;
        else break;
      }
      expect(')');
      return fields;
    }
    const word = /^[^\s,)\]]+/.exec(text.slice(pos))![0];
    pos += word.length;
    if (word === 'true' || word === 'false') return word === 'true';
    if (/^-?\d+$/.test(word)) return Number(word);
    return word;
  };

  const value = readValue();
  skipSpace();
  if (pos !== text.length) throw new Error(`trailing text at ${pos}`);
  return value;
}
