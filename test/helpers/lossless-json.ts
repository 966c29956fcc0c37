/**
 * A JSON reader that keeps integers above 2^53 exact.
 *
 * Eighteen of the Ryu OF1.3 vector files hold 64-bit cookies, datapath ids and
 * masks (e.g. 18446744073709551615) that `JSON.parse` silently rounds
 * (openflow-vectors README, "Big integers"). This parser returns every integer
 * literal that is not a safe JS integer as a `bigint`, and everything else as
 * `JSON.parse` would. It is a plain recursive-descent parser over RFC 8259;
 * vectors are small, so clarity wins over speed.
 */

export type LosslessJson =
  null | boolean | number | bigint | string | LosslessJson[] | { [key: string]: LosslessJson };

/** Parses `text`; integers outside ±(2^53−1) become bigint. Throws SyntaxError on bad JSON. */
export function parseLosslessJson(text: string): LosslessJson {
  const p = new Parser(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.pos !== text.length) p.fail("trailing characters");
  return v;
}

/** Integer as `bigint` whether it was parsed as number or bigint (for 64-bit comparisons). */
export function toBigInt(v: LosslessJson | undefined): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  throw new TypeError(`not an integer: ${String(v)}`);
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new SyntaxError(`JSON ${why} at offset ${this.pos}`);
  }

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  value(): LosslessJson {
    const c = this.s[this.pos];
    switch (c) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      default:
        return this.number();
    }
  }

  literal<T extends LosslessJson>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail("unexpected token");
    this.pos += word.length;
    return v;
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (m === null) this.fail("unexpected token");
    this.pos += m[0].length;
    const isInteger = m[1] === undefined && m[2] === undefined;
    const n = Number(m[0]);
    if (isInteger && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }

  string(): string {
    this.pos++; // opening quote
    let out = "";
    let start = this.pos;
    while (true) {
      if (this.pos >= this.s.length) this.fail("unterminated string");
      const c = this.s[this.pos]!;
      if (c === '"') {
        out += this.s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === "\\") {
        out += this.s.slice(start, this.pos);
        const e = this.s[this.pos + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
        } else if (e === "u") {
          const code = this.s.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(code)) this.fail("bad \\u escape");
          out += String.fromCharCode(parseInt(code, 16));
          this.pos += 6;
        } else {
          this.fail("bad escape");
        }
        start = this.pos;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) this.fail("control character in string");
      this.pos++;
    }
  }

  array(): LosslessJson[] {
    this.pos++;
    const out: LosslessJson[] = [];
    this.ws();
    if (this.s[this.pos] === "]") {
      this.pos++;
      return out;
    }
    while (true) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.pos++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected , or ]");
    }
  }

  object(): { [key: string]: LosslessJson } {
    this.pos++;
    const out: { [key: string]: LosslessJson } = {};
    this.ws();
    if (this.s[this.pos] === "}") {
      this.pos++;
      return out;
    }
    while (true) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail("expected key");
      const key = this.string();
      this.ws();
      if (this.s[this.pos++] !== ":") this.fail("expected :");
      this.ws();
      // defineProperty keeps a "__proto__" key an ordinary property.
      Object.defineProperty(out, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.ws();
      const c = this.s[this.pos++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected , or }");
    }
  }
}
