/**
 * A WebAssembly SIMD dot-product kernel for PELM retrieval, assembled here as bytes (no
 * toolchain is needed or shipped: the module is 200-odd bytes, written out below).
 *
 * `dots(q, base, rows, rowBytes, out)` computes, for `rows` consecutive float32 rows of
 * `rowBytes` bytes starting at byte `base`, the dot product with the query at byte `q`, and
 * writes each as a float32 to `out`. Four f32x4 accumulators over 64-byte steps, so rows must
 * be a multiple of 16 floats (384 is). The vectors live in the module's memory, so nothing is
 * copied per call; a full 20,000 × 384 scan reads 30.7 MB at close to memory bandwidth.
 *
 * Where WebAssembly SIMD is unavailable, or the dimension is not a multiple of 16, PELM uses
 * its plain TypeScript loop; both give the same top-k up to float32 rounding (tested).
 */

/** The kernel's exported function. */
export type DotKernel = (q: number, base: number, rows: number, rowBytes: number, out: number) => void;

/** The part of WebAssembly's memory object PELM uses. */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
}

/** A kernel bound to its memory. */
export interface KernelInstance {
  readonly memory: KernelMemory;
  readonly dots: DotKernel;
  /** The compiled module (another thread instantiates it over the same shared memory). */
  readonly module: object;
  /** Whether `memory` is shared (its buffer a SharedArrayBuffer other threads can read). */
  readonly shared: boolean;
}

/** The slice of the WebAssembly JS API used here (the project's lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => KernelMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const PAGE = 65_536;

function leb(value: number): number[] {
  const out: number[] = [];
  let n = value;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, bytes: number[]): number[] {
  return [id, ...leb(bytes.length), ...bytes];
}

function name(text: string): number[] {
  return [...leb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

// Opcodes (WebAssembly core + fixed-width SIMD).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SHL = 0x74;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const F32_ADD = 0x92;
const F32_STORE = 0x38;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_CONST = [SIMD, 0x0c];
const F32X4_EXTRACT_LANE = [SIMD, 0x1f];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];

// Locals: 0 q, 1 base, 2 rows, 3 rowBytes, 4 out (params); 5 r, 6 i, 7 p (i32); 8–11 accumulators (v128).
const [Q, BASE, ROWS, ROW_BYTES, OUT, R, I, P] = [0, 1, 2, 3, 4, 5, 6, 7];

/** acc += load(p + i + offset) * load(q + i + offset) */
// prettier-ignore
function accumulate(acc: number, offset: number): number[] {
  return [
    LOCAL_GET, acc,
    LOCAL_GET, P, LOCAL_GET, I, I32_ADD, ...V128_LOAD, 0x04, ...leb(offset),
    LOCAL_GET, Q, LOCAL_GET, I, I32_ADD, ...V128_LOAD, 0x04, ...leb(offset),
    ...F32X4_MUL, ...F32X4_ADD, LOCAL_SET, acc,
  ];
}

// prettier-ignore
function moduleBytes(pages: number, shared: boolean): Uint8Array {
  const zero = [...V128_CONST, ...new Array<number>(16).fill(0)];
  const body = [
    0x02, 0x03, 0x7f, 0x04, 0x7b, // locals: 3 × i32 (r, i, p), 4 × v128 (accumulators)
    LOCAL_GET, BASE, LOCAL_SET, P, // p = base
    BLOCK, VOID, LOOP, VOID, // for (r = 0; r < rows; r++)
    LOCAL_GET, R, LOCAL_GET, ROWS, I32_GE_U, BR_IF, 1,
    ...zero, LOCAL_SET, 8, ...zero, LOCAL_SET, 9, ...zero, LOCAL_SET, 10, ...zero, LOCAL_SET, 11,
    I32_CONST, 0, LOCAL_SET, I, // for (i = 0; i < rowBytes; i += 64)
    LOOP, VOID,
    ...accumulate(8, 0), ...accumulate(9, 16), ...accumulate(10, 32), ...accumulate(11, 48),
    LOCAL_GET, I, I32_CONST, 0xc0, 0x00 /* 64, signed LEB */, I32_ADD, LOCAL_TEE, I,
    LOCAL_GET, ROW_BYTES, I32_LT_U, BR_IF, 0,
    END,
    // a0 = a0 + a1 + a2 + a3; out[r] = a0.lane0 + a0.lane1 + a0.lane2 + a0.lane3
    LOCAL_GET, 8, LOCAL_GET, 9, ...F32X4_ADD, LOCAL_GET, 10, ...F32X4_ADD, LOCAL_GET, 11, ...F32X4_ADD,
    LOCAL_SET, 8,
    LOCAL_GET, OUT, LOCAL_GET, R, I32_CONST, 2, I32_SHL, I32_ADD,
    LOCAL_GET, 8, ...F32X4_EXTRACT_LANE, 0,
    LOCAL_GET, 8, ...F32X4_EXTRACT_LANE, 1, F32_ADD,
    LOCAL_GET, 8, ...F32X4_EXTRACT_LANE, 2, F32_ADD,
    LOCAL_GET, 8, ...F32X4_EXTRACT_LANE, 3, F32_ADD,
    F32_STORE, 0x02, 0x00,
    LOCAL_GET, P, LOCAL_GET, ROW_BYTES, I32_ADD, LOCAL_SET, P, // p += rowBytes
    LOCAL_GET, R, I32_CONST, 1, I32_ADD, LOCAL_SET, R, // r += 1
    BR, 0,
    END, END,
    END,
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    // Memory import limits: 0x01 = initial and maximum; 0x03 = the same, shared (threads).
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, shared ? 0x03 : 0x01, ...leb(pages), ...leb(pages)]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name("dots"), 0x00, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/**
 * Instantiates the kernel over a fresh memory of at least `bytes` bytes, or returns
 * undefined where WebAssembly SIMD is not available.
 */
export function createDotKernel(
  bytes: number,
  options: { shared?: boolean } = {},
): KernelInstance | undefined {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return undefined;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  // Shared memory needs WebAssembly threads; without them, fall back to a private memory.
  for (const shared of options.shared === true ? [true, false] : [false]) {
    const code = moduleBytes(pages, shared);
    if (!wasm.validate(code)) continue;
    const memory = new wasm.Memory({ initial: pages, maximum: pages, ...(shared ? { shared } : {}) });
    const module = new wasm.Module(code);
    const instance = new wasm.Instance(module, { env: { memory } });
    return { memory, dots: instance.exports.dots as DotKernel, module, shared };
  }
  return undefined;
}
