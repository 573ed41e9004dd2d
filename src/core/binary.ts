/**
 * A compact little-endian binary format for component snapshots: typed arrays are copied as
 * raw bytes (bit-for-bit), scalars as fixed-width numbers. Each component writes a section
 * tagged with a 4-character name and a version, so a snapshot says what it holds and a
 * reader refuses what it does not understand.
 */

/** Thrown when a snapshot is truncated, mistagged or of an unknown version. */
export class SnapshotFormatError extends Error {
  override readonly name = "SnapshotFormatError";
}

/** Appends values to a growing buffer. */
export class BinaryWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  /** Grows the buffer for `bytes` more and returns where they go. Callers must read
   * `this.buffer`/`this.view` AFTER calling this (it may replace them). */
  private reserve(bytes: number): number {
    const at = this.length;
    const needed = at + bytes;
    if (needed > this.buffer.length) {
      const next = new Uint8Array(Math.max(needed, this.buffer.length * 2));
      next.set(this.buffer.subarray(0, at));
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    this.length = needed;
    return at;
  }

  /** Starts a section: a 4-ASCII-character tag and a format version. */
  section(tag: string, version: number): this {
    if (!/^[A-Z0-9]{4}$/.test(tag)) throw new Error(`section tag must be 4 of [A-Z0-9]: ${tag}`);
    for (let i = 0; i < 4; i++) this.u8(tag.charCodeAt(i));
    return this.u32(version);
  }

  u8(value: number): this {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
    return this;
  }

  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
    return this;
  }

  /** An unsigned integer up to 2^53 − 1 (stored as 8 bytes). */
  u53(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a u53: ${value}`);
    const at = this.reserve(8);
    this.view.setUint32(at, value % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
    return this;
  }

  f64(value: number): this {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** A UTF-8 string with a u32 byte length. */
  string(value: string): this {
    const bytes = new TextEncoder().encode(value);
    this.u32(bytes.length);
    const at = this.reserve(bytes.length);
    this.buffer.set(bytes, at);
    return this;
  }

  /** A Float32Array's raw bytes, with a u32 element count. */
  f32s(values: Float32Array): this {
    this.u32(values.length);
    const at = this.reserve(values.byteLength);
    this.buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    return this;
  }

  /** A Uint32Array's raw bytes, with a u32 element count. */
  u32s(values: Uint32Array): this {
    this.u32(values.length);
    const at = this.reserve(values.byteLength);
    this.buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    return this;
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Reads what a BinaryWriter wrote, checking bounds on every read. */
export class BinaryReader {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(count: number): number {
    const at = this.offset;
    if (at + count > this.bytes.length) {
      throw new SnapshotFormatError(`snapshot truncated at byte ${at} (needs ${count} more)`);
    }
    this.offset = at + count;
    return at;
  }

  /** Reads a section header; throws unless the tag matches and the version is supported. */
  section(tag: string, supported: readonly number[]): number {
    let found = "";
    for (let i = 0; i < 4; i++) found += String.fromCharCode(this.u8());
    if (found !== tag)
      throw new SnapshotFormatError(`expected section ${tag}, found ${JSON.stringify(found)}`);
    const version = this.u32();
    if (!supported.includes(version)) {
      throw new SnapshotFormatError(`section ${tag} version ${version} is not supported`);
    }
    return version;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }

  u53(): number {
    const at = this.take(8);
    const value = this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 2 ** 32;
    if (!Number.isSafeInteger(value)) throw new SnapshotFormatError(`u53 out of range at byte ${at}`);
    return value;
  }

  f64(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new SnapshotFormatError(`invalid boolean ${value}`);
    return value === 1;
  }

  string(): string {
    const length = this.u32();
    const at = this.take(length);
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(at, at + length));
  }

  /** A Float32Array (a fresh, aligned copy). `expected` checks the element count when given. */
  f32s(expected?: number): Float32Array {
    const count = this.u32();
    if (expected !== undefined && count !== expected) {
      throw new SnapshotFormatError(`expected ${expected} floats, found ${count}`);
    }
    const at = this.take(count * 4);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(this.bytes.subarray(at, at + count * 4));
    return out;
  }

  /** A Uint32Array (a fresh, aligned copy). `expected` checks the element count when given. */
  u32s(expected?: number): Uint32Array {
    const count = this.u32();
    if (expected !== undefined && count !== expected) {
      throw new SnapshotFormatError(`expected ${expected} u32 values, found ${count}`);
    }
    const at = this.take(count * 4);
    const out = new Uint32Array(count);
    new Uint8Array(out.buffer).set(this.bytes.subarray(at, at + count * 4));
    return out;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.offset === this.bytes.length;
  }
}
