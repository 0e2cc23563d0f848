/**
 * The WebAssembly SIMD matmul kernel, written as WAT text generated here and assembled at load time by the pure-JS
 * `wabt` package (no native toolchain). One exported function per weight dtype:
 *
 *   mm_f32 | mm_bf16 | mm_f16 (x, w, y, n, m, k, ldxBytes, ldwBytes, ldyBytes, bias)
 *     y[i, j] = sum_p x[i, p] * w[j, p]  (+ bias[j] when bias != 0),  i < n, j < m, p < k
 *
 * x and y are f32; w is row-major [out, in] in its stored dtype and is decoded 4 lanes at a time in registers
 * (BF16: shift; F16: exponent rebias by a multiply, inf/NaN patched), so half-precision weights stay compact in
 * memory. All pointers are byte offsets in the shared memory; strides are in bytes, so column blocks (one head's
 * slice of W_O) are free. Each output element is one fixed-order dot product, so splitting the j range across
 * threads gives bit-identical results for any thread count.
 */

type Kind = 'f32' | 'bf16' | 'f16';
const ESIZE: Record<Kind, number> = { f32: 4, bf16: 2, f16: 2 };

/** Register block: RI rows of x times RJ rows of w. 4x2 keeps 8 accumulators + 6 operands in 16 xmm registers. */
const RI = 4;
const RJ = 2;

function vload(kind: Kind, addr: string): string {
  if (kind === 'f32') return `(v128.load align=4 ${addr})`;
  if (kind === 'bf16') return `(i32x4.shl (v128.load16x4_u align=2 ${addr}) (i32.const 16))`;
  // f16: (h & 0x7fff) << 13 read as f32 times 2^112 rebiases normals and subnormals exactly; then inf/NaN and sign.
  return `(call $f16x4 (v128.load16x4_u align=2 ${addr}))`;
}

function sload(kind: Kind, addr: string): string {
  if (kind === 'f32') return `(f32.load align=4 ${addr})`;
  if (kind === 'bf16') return `(f32.reinterpret_i32 (i32.shl (i32.load16_u align=2 ${addr}) (i32.const 16)))`;
  return `(f32x4.extract_lane 0 (call $f16x4 (i32x4.splat (i32.load16_u align=2 ${addr}))))`;
}

function hsum(v: string): string {
  return `(f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v})))`;
}

/** One register block: ri rows of x by rj rows of w, full k. */
function block(kind: Kind, ri: number, rj: number): string {
  const es = ESIZE[kind];
  const L: string[] = [];
  const rows = (n: number) => [...Array(n).keys()];
  L.push(`(func $blk_${kind}_${ri}_${rj} (param $x i32) (param $w i32) (param $y i32) (param $k i32) (param $ldx i32) (param $ldw i32) (param $ldy i32) (param $bias i32)`);
  L.push(`  (local $o i32) (local $ow i32) (local $end i32) (local $endAll i32)`);
  for (const i of rows(ri)) L.push(`  (local $xr${i} i32) (local $xv${i} v128)`);
  for (const j of rows(rj)) L.push(`  (local $wr${j} i32) (local $wv${j} v128)`);
  for (const i of rows(ri)) for (const j of rows(rj)) L.push(`  (local $a${i}_${j} v128) (local $s${i}_${j} f32)`);
  for (const i of rows(ri)) L.push(`  (local.set $xr${i} (i32.add (local.get $x) (i32.mul (local.get $ldx) (i32.const ${i}))))`);
  for (const j of rows(rj)) L.push(`  (local.set $wr${j} (i32.add (local.get $w) (i32.mul (local.get $ldw) (i32.const ${j}))))`);
  L.push(`  (local.set $end (i32.shl (i32.and (local.get $k) (i32.const -4)) (i32.const 2)))`);
  L.push(`  (local.set $endAll (i32.shl (local.get $k) (i32.const 2)))`);
  L.push(`  (block $done (loop $loop`);
  L.push(`    (br_if $done (i32.ge_u (local.get $o) (local.get $end)))`);
  for (const i of rows(ri)) L.push(`    (local.set $xv${i} (v128.load align=4 (i32.add (local.get $xr${i}) (local.get $o))))`);
  for (const j of rows(rj)) L.push(`    (local.set $wv${j} ${vload(kind, `(i32.add (local.get $wr${j}) (local.get $ow))`)})`);
  for (const i of rows(ri)) for (const j of rows(rj)) {
    L.push(`    (local.set $a${i}_${j} (f32x4.add (local.get $a${i}_${j}) (f32x4.mul (local.get $xv${i}) (local.get $wv${j}))))`);
  }
  L.push(`    (local.set $o (i32.add (local.get $o) (i32.const 16)))`);
  L.push(`    (local.set $ow (i32.add (local.get $ow) (i32.const ${4 * es})))`);
  L.push(`    (br $loop)))`);
  for (const i of rows(ri)) for (const j of rows(rj)) L.push(`  (local.set $s${i}_${j} ${hsum(`(local.get $a${i}_${j})`)})`);
  // k % 4 tail, scalar.
  L.push(`  (block $tdone (loop $tloop`);
  L.push(`    (br_if $tdone (i32.ge_u (local.get $o) (local.get $endAll)))`);
  for (const j of rows(rj)) {
    for (const i of rows(ri)) {
      L.push(`    (local.set $s${i}_${j} (f32.add (local.get $s${i}_${j}) (f32.mul (f32.load align=4 (i32.add (local.get $xr${i}) (local.get $o))) ${sload(kind, `(i32.add (local.get $wr${j}) (local.get $ow))`)})))`);
    }
  }
  L.push(`    (local.set $o (i32.add (local.get $o) (i32.const 4)))`);
  L.push(`    (local.set $ow (i32.add (local.get $ow) (i32.const ${es})))`);
  L.push(`    (br $tloop)))`);
  L.push(`  (if (local.get $bias) (then`);
  for (const i of rows(ri)) for (const j of rows(rj)) {
    L.push(`    (local.set $s${i}_${j} (f32.add (local.get $s${i}_${j}) (f32.load offset=${4 * j} align=4 (local.get $bias))))`);
  }
  L.push(`  ))`);
  for (const i of rows(ri)) for (const j of rows(rj)) {
    L.push(`  (f32.store offset=${4 * j} align=4 (i32.add (local.get $y) (i32.mul (local.get $ldy) (i32.const ${i}))) (local.get $s${i}_${j}))`);
  }
  L.push(`)`);
  return L.join('\n');
}

function driver(kind: Kind): string {
  const call = (ri: number, rj: number) =>
    `(call $blk_${kind}_${ri}_${rj} (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $ldx)))` +
    ` (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $ldw)))` +
    ` (i32.add (i32.add (local.get $y) (i32.mul (local.get $i) (local.get $ldy))) (i32.shl (local.get $j) (i32.const 2)))` +
    ` (local.get $k) (local.get $ldx) (local.get $ldw) (local.get $ldy)` +
    ` (select (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0) (local.get $bias)))`;
  const rowsLoop = (rj: number) => `
      (local.set $i (i32.const 0))
      (block $ib (loop $il
        (br_if $ib (i32.gt_u (i32.add (local.get $i) (i32.const ${RI})) (local.get $n)))
        ${call(RI, rj)}
        (local.set $i (i32.add (local.get $i) (i32.const ${RI})))
        (br $il)))
      (block $ib1 (loop $il1
        (br_if $ib1 (i32.ge_u (local.get $i) (local.get $n)))
        ${call(1, rj)}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il1)))`;
  return `
(func (export "mm_${kind}") (param $x i32) (param $w i32) (param $y i32) (param $n i32) (param $m i32) (param $k i32)
      (param $ldx i32) (param $ldw i32) (param $ldy i32) (param $bias i32)
  (local $i i32) (local $j i32)
  (block $jb (loop $jl
    (br_if $jb (i32.gt_u (i32.add (local.get $j) (i32.const ${RJ})) (local.get $m)))
    ${rowsLoop(RJ)}
    (local.set $j (i32.add (local.get $j) (i32.const ${RJ})))
    (br $jl)))
  (block $jb1 (loop $jl1
    (br_if $jb1 (i32.ge_u (local.get $j) (local.get $m)))
    ${rowsLoop(1)}
    (local.set $j (i32.add (local.get $j) (i32.const 1)))
    (br $jl1)))
)`;
}

const F16X4 = `
(func $f16x4 (param $h v128) (result v128)
  (local $f v128)
  (local.set $f (f32x4.mul
    (i32x4.shl (v128.and (local.get $h) (v128.const i32x4 0x7fff 0x7fff 0x7fff 0x7fff)) (i32.const 13))
    (v128.const f32x4 0x1p+112 0x1p+112 0x1p+112 0x1p+112)))
  (local.set $f (v128.or (local.get $f)
    (v128.and
      (i32x4.eq (v128.and (local.get $h) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00)) (v128.const i32x4 0x7c00 0x7c00 0x7c00 0x7c00))
      (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))))
  (v128.or (local.get $f)
    (i32x4.shl (v128.and (local.get $h) (v128.const i32x4 0x8000 0x8000 0x8000 0x8000)) (i32.const 16))))`;

/** Register block of the matrix-vector variant (few rows of x, as in generation): 1 row of x times MV_RJ rows of w. */
const MV_RJ = 4;

/**
 * mv_<kind>: the same product as mm_<kind> (same arguments, same per-element summation order, so identical bits)
 * for few rows of x: 1 x 4 register blocks keep four weight rows streaming at once, which is what a memory-bound
 * matrix-vector product needs.
 */
function mvDriver(kind: Kind): string {
  const call = (rj: number) =>
    `(call $blk_${kind}_1_${rj} (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $ldx)))` +
    ` (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $ldw)))` +
    ` (i32.add (i32.add (local.get $y) (i32.mul (local.get $i) (local.get $ldy))) (i32.shl (local.get $j) (i32.const 2)))` +
    ` (local.get $k) (local.get $ldx) (local.get $ldw) (local.get $ldy)` +
    ` (select (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0) (local.get $bias)))`;
  return `
(func (export "mv_${kind}") (param $x i32) (param $w i32) (param $y i32) (param $n i32) (param $m i32) (param $k i32)
      (param $ldx i32) (param $ldw i32) (param $ldy i32) (param $bias i32)
  (local $i i32) (local $j i32)
  (block $ib (loop $il
    (br_if $ib (i32.ge_u (local.get $i) (local.get $n)))
    (local.set $j (i32.const 0))
    (block $jb (loop $jl
      (br_if $jb (i32.gt_u (i32.add (local.get $j) (i32.const ${MV_RJ})) (local.get $m)))
      ${call(MV_RJ)}
      (local.set $j (i32.add (local.get $j) (i32.const ${MV_RJ})))
      (br $jl)))
    (block $jb1 (loop $jl1
      (br_if $jb1 (i32.ge_u (local.get $j) (local.get $m)))
      ${call(1)}
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $jl1)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $il)))
)`;
}

/** The kernel module's WAT text; imports a shared memory `env.memory`. */
export function matmulWat(): string {
  const kinds: Kind[] = ['f32', 'bf16', 'f16'];
  const parts = ['(module', '(import "env" "memory" (memory 1 65536 shared))', F16X4];
  for (const kind of kinds) {
    for (const [ri, rj] of [[RI, RJ], [1, RJ], [RI, 1], [1, 1], [1, MV_RJ]] as const) parts.push(block(kind, ri, rj));
    parts.push(driver(kind), mvDriver(kind));
  }
  parts.push(')');
  return parts.join('\n');
}
