/**
 * The text stored beside each PELM slot (W7 fix: context carries content, not only relevance
 * numbers). Keyed by slot, so a text is evicted exactly when its vector is overwritten; a
 * memory written without text (ProcessEvent) clears whatever the slot held before.
 *
 * Texts are capped in UTF-8 bytes when stored (cut on a character boundary) and are expected
 * to be scrubbed of personal data by the caller: core does not know what personal data is.
 */
import type { BinaryReader, BinaryWriter } from "./binary.js";
import { SnapshotFormatError } from "./binary.js";

const SNAPSHOT_TAG = "TEXT";
const SNAPSHOT_VERSION = 1;

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function capUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return "";
  // Fast path: a string of n UTF-16 units needs at most 3n bytes.
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** Texts by PELM slot. */
export class ContextTexts {
  private readonly texts: (string | undefined)[];

  constructor(readonly capacity: number) {
    this.texts = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** Stores `text` at `slot` (empty text clears the slot). */
  set(slot: number, text: string): void {
    this.texts[slot] = text === "" ? undefined : text;
  }

  /** The text at `slot`, or "" when none. */
  get(slot: number): string {
    return this.texts[slot] ?? "";
  }

  /** Number of slots that hold a text. */
  count(): number {
    let n = 0;
    for (const text of this.texts) if (text !== undefined) n += 1;
    return n;
  }

  snapshot(writer: BinaryWriter): void {
    writer.section(SNAPSHOT_TAG, SNAPSHOT_VERSION).u32(this.capacity).u32(this.count());
    this.texts.forEach((text, slot) => {
      if (text !== undefined) writer.u32(slot).string(text);
    });
  }

  static restore(reader: BinaryReader, capacity: number): ContextTexts {
    reader.section(SNAPSHOT_TAG, [SNAPSHOT_VERSION]);
    const stored = reader.u32();
    if (stored !== capacity) {
      throw new SnapshotFormatError(`text store capacity ${stored} differs from the PELM's ${capacity}`);
    }
    const texts = new ContextTexts(capacity);
    const count = reader.u32();
    for (let i = 0; i < count; i++) {
      const slot = reader.u32();
      if (slot >= capacity) throw new SnapshotFormatError(`text slot ${slot} is outside the store`);
      texts.set(slot, reader.string());
    }
    return texts;
  }
}
