//! Register-blocked dense matrix products for the MLP's hot loops, in a fixed summation order.
//!
//! Every entry is summed exactly as the textbook loop sums it — `c[i, j] = init_j + a[i, 0]·b[0, j] +
//! a[i, 1]·b[1, j] + ...`, left to right — so the results are bit-for-bit those of the plain triple loop
//! (Rust never contracts `x + y·z` into a fused multiply-add on its own). What changes is only the order in
//! which the *independent* entries are worked on: a block of [`ROWS`]×[`COLS`] outputs is kept in local
//! accumulators while the shared dimension is walked once, so each loaded element of `b` serves `ROWS`
//! rows and each element of `a` serves `COLS` columns, instead of every multiply-add loading and storing
//! its output. This is the register-blocking idea of Goto & van de Geijn, "Anatomy of high-performance
//! matrix multiplication", ACM TOMS 34(3), 2008, without their packing. Blocks are visited a column
//! panel of `b` at a time, so the panel stays in the cache while every block row uses it.
//!
//! Natively the blocks are compiled twice, for baseline x86-64 (SSE2) and for AVX2, and pulp picks the
//! widest the CPU has at run time (its dispatch is safe to call, so this crate still has no `unsafe`);
//! there a full block row takes eight columns (two 256-bit registers per accumulator row). A vector
//! multiply or add rounds each lane exactly as the scalar operation would, and nothing is fused, so the
//! bits are the same on every CPU and in wasm32; the test below compares every block shape with the
//! plain loop bit for bit.
//!
//! On wasm32 the full-width blocks use WebAssembly's 128-bit SIMD (`simd128`), which the module then
//! requires: every current browser engine has it (Chrome and Firefox since 2021, Safari since 16.4 in
//! 2023), and where instantiating the module fails, the page renders widgets through the server route.

/// Rows of the output block kept in accumulators.
const ROWS: usize = 4;
/// Columns of the output block: four `f64` are two SSE2 registers natively, and a 4×4 block (16
/// accumulators) plus one row of `b` still fits the 16 floating-point registers of x86-64.
const COLS: usize = 4;

/// How the left operand is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Left {
    /// `a` is the `m × k` matrix itself, row-major.
    Plain,
    /// `a` is the row-major `k × m` matrix whose transpose is the left operand (the `Aᵀ·Δ` of a weight
    /// gradient), so no transposed copy has to be made.
    Transposed,
}

/// `c = init + op(a) · b` for an `m × k` left operand, a row-major `k × n` matrix `b` and a row-major
/// `m × n` output `c`, where `init` is a row vector added to every row (a bias) or zero, and every entry
/// is summed in increasing `p` after its `init` (see the module documentation).
///
/// # Panics
/// If a slice is shorter than its shape says.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub(crate) fn matmul_into(
    left: Left,
    a: &[f64],
    b: &[f64],
    init: Option<&[f64]>,
    c: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    // Natively, pulp compiles the blocks once per instruction-set level (baseline SSE2 and AVX2) and
    // picks the widest the CPU has at run time, without `unsafe` here. The arithmetic is the same
    // separate multiply and add per term in the same order, so the bits do not depend on the choice.
    #[cfg(not(target_arch = "wasm32"))]
    pulp::Arch::new().dispatch(Product {
        left,
        a,
        b,
        init,
        c,
        m,
        k,
        n,
    });
    #[cfg(target_arch = "wasm32")]
    matmul_blocks(left, a, b, init, c, m, k, n);
}

/// The arguments of [`matmul_into`], as the operation pulp dispatches.
#[cfg(not(target_arch = "wasm32"))]
struct Product<'s> {
    left: Left,
    a: &'s [f64],
    b: &'s [f64],
    init: Option<&'s [f64]>,
    c: &'s mut [f64],
    m: usize,
    k: usize,
    n: usize,
}

#[cfg(not(target_arch = "wasm32"))]
impl pulp::WithSimd for Product<'_> {
    type Output = ();

    // `inline(always)` all the way down, so that the whole product is compiled inside pulp's
    // per-instruction-set function, with its target features.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Product {
            left,
            a,
            b,
            init,
            c,
            m,
            k,
            n,
        } = self;
        matmul_blocks(left, a, b, init, c, m, k, n);
    }
}

/// The body of [`matmul_into`], inlined into each instruction-set variant.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn matmul_blocks(
    left: Left,
    a: &[f64],
    b: &[f64],
    init: Option<&[f64]>,
    c: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if let Some(init) = init {
        assert!(init.len() >= n);
    }
    // Column panels outermost: one panel of `b` (natively eight columns, two AVX registers per
    // accumulator row) serves every block row of `a` while it is still in the cache, instead of being
    // fetched again for each block row. The order in which blocks are visited does not touch any entry's
    // summation order.
    let wide = if cfg!(target_arch = "wasm32") {
        COLS
    } else {
        2 * COLS
    };
    let mut j0 = 0;
    while j0 < n {
        let panel = (n - j0).min(wide);
        let mut i0 = 0;
        while i0 < m {
            let rows = (m - i0).min(ROWS);
            let mut jj = j0;
            while jj < j0 + panel {
                let left_cols = j0 + panel - jj;
                let cols = if rows == ROWS && left_cols >= 2 * COLS {
                    2 * COLS
                } else {
                    left_cols.min(COLS)
                };
                let at = Block {
                    left,
                    a,
                    b,
                    init,
                    i0,
                    j0: jj,
                    m,
                    k,
                    n,
                };
                // One monomorphised kernel per block shape keeps the accumulators in registers; the
                // edge shapes only occur on the last block row or column.
                match (rows, cols) {
                    (4, 8) => at.run::<4, 8>(c),
                    (4, 4) => at.run_wide::<4>(c),
                    (4, 3) => at.run::<4, 3>(c),
                    (4, 2) => at.run::<4, 2>(c),
                    (4, _) => at.run::<4, 1>(c),
                    (3, 4) => at.run_wide::<3>(c),
                    (3, 3) => at.run::<3, 3>(c),
                    (3, 2) => at.run::<3, 2>(c),
                    (3, _) => at.run::<3, 1>(c),
                    (2, 4) => at.run_wide::<2>(c),
                    (2, 3) => at.run::<2, 3>(c),
                    (2, 2) => at.run::<2, 2>(c),
                    (2, _) => at.run::<2, 1>(c),
                    (_, 4) => at.run_wide::<1>(c),
                    (_, 3) => at.run::<1, 3>(c),
                    (_, 2) => at.run::<1, 2>(c),
                    _ => at.run::<1, 1>(c),
                }
                jj += cols;
            }
            i0 += rows;
        }
        j0 += panel;
    }
}

/// One output block's operands and position.
struct Block<'s> {
    left: Left,
    a: &'s [f64],
    b: &'s [f64],
    init: Option<&'s [f64]>,
    i0: usize,
    j0: usize,
    m: usize,
    k: usize,
    n: usize,
}

impl Block<'_> {
    /// A full-width `R×4` block: the explicit SIMD kernel on wasm32, the portable one elsewhere (where
    /// LLVM vectorises it for SSE2 by itself).
    #[inline(always)]
    fn run_wide<const R: usize>(&self, c: &mut [f64]) {
        #[cfg(target_arch = "wasm32")]
        self.run_simd128::<R>(c);
        #[cfg(not(target_arch = "wasm32"))]
        self.run::<R, 4>(c);
    }

    /// The `R×4` block with WebAssembly's 128-bit SIMD: each accumulator row is two `f64x2` lanes. LLVM
    /// does not vectorise the portable loop for wasm32 by itself, and without this the widget's worst case
    /// misses its frame budget in the browser. Lane-wise `f64x2.mul` and `f64x2.add` round exactly like
    /// the scalar operations, so the results are the same bits as [`Block::run`].
    #[cfg(target_arch = "wasm32")]
    #[inline]
    #[target_feature(enable = "simd128")]
    fn run_simd128<const R: usize>(&self, c: &mut [f64]) {
        use core::arch::wasm32::{
            f64x2, f64x2_add, f64x2_extract_lane, f64x2_mul, f64x2_splat, v128,
        };
        let Block {
            left,
            a,
            b,
            init,
            i0,
            j0,
            m,
            k,
            n,
        } = *self;
        let start = match init {
            Some(init) => [
                f64x2(init[j0], init[j0 + 1]),
                f64x2(init[j0 + 2], init[j0 + 3]),
            ],
            None => [f64x2_splat(0.0); 2],
        };
        let mut acc: [[v128; 2]; R] = [start; R];
        for p in 0..k {
            let row = &b[p * n + j0..p * n + j0 + 4];
            let (b01, b23) = (f64x2(row[0], row[1]), f64x2(row[2], row[3]));
            for (r, acc_row) in acc.iter_mut().enumerate() {
                let av = f64x2_splat(match left {
                    Left::Plain => a[(i0 + r) * k + p],
                    Left::Transposed => a[p * m + i0 + r],
                });
                acc_row[0] = f64x2_add(acc_row[0], f64x2_mul(av, b01));
                acc_row[1] = f64x2_add(acc_row[1], f64x2_mul(av, b23));
            }
        }
        for (r, acc_row) in acc.iter().enumerate() {
            let out = &mut c[(i0 + r) * n + j0..(i0 + r) * n + j0 + 4];
            out[0] = f64x2_extract_lane::<0>(acc_row[0]);
            out[1] = f64x2_extract_lane::<1>(acc_row[0]);
            out[2] = f64x2_extract_lane::<0>(acc_row[1]);
            out[3] = f64x2_extract_lane::<1>(acc_row[1]);
        }
    }

    #[inline(always)]
    fn run<const R: usize, const C: usize>(&self, c: &mut [f64]) {
        let Block {
            left,
            a,
            b,
            init,
            i0,
            j0,
            m,
            k,
            n,
        } = *self;
        let mut acc = [[0.0f64; C]; R];
        if let Some(init) = init {
            let init: &[f64; C] = init[j0..j0 + C].try_into().expect("C entries");
            acc.fill(*init);
        }
        match left {
            Left::Plain => {
                let a_rows: [&[f64]; R] =
                    core::array::from_fn(|r| &a[(i0 + r) * k..(i0 + r + 1) * k]);
                for p in 0..k {
                    let b_row: &[f64; C] =
                        b[p * n + j0..p * n + j0 + C].try_into().expect("C entries");
                    for (acc_row, a_row) in acc.iter_mut().zip(&a_rows) {
                        let av = a_row[p];
                        for (s, &bv) in acc_row.iter_mut().zip(b_row) {
                            *s += av * bv;
                        }
                    }
                }
            }
            Left::Transposed => {
                for p in 0..k {
                    let a_col: &[f64; R] =
                        a[p * m + i0..p * m + i0 + R].try_into().expect("R entries");
                    let b_row: &[f64; C] =
                        b[p * n + j0..p * n + j0 + C].try_into().expect("C entries");
                    for (acc_row, &av) in acc.iter_mut().zip(a_col) {
                        for (s, &bv) in acc_row.iter_mut().zip(b_row) {
                            *s += av * bv;
                        }
                    }
                }
            }
        }
        for (r, acc_row) in acc.iter().enumerate() {
            c[(i0 + r) * n + j0..(i0 + r) * n + j0 + C].copy_from_slice(acc_row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The plain triple loop in the documented order.
    fn reference(
        left: Left,
        a: &[f64],
        b: &[f64],
        init: Option<&[f64]>,
        m: usize,
        k: usize,
        n: usize,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = init.map_or(0.0, |v| v[j]);
                for p in 0..k {
                    let av = match left {
                        Left::Plain => a[i * k + p],
                        Left::Transposed => a[p * m + i],
                    };
                    s += av * b[p * n + j];
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn blocked_products_equal_the_plain_loop_bit_for_bit() {
        // Every block shape, including the edges, against the triple loop. The two must agree exactly
        // (compared through their bit patterns), because the summation order is the documented contract:
        // the MLP's numbers must not depend on how the product is blocked.
        let mut rng = Rng::new(11);
        for (m, k, n) in [
            (1, 1, 1),
            (4, 4, 4),
            (5, 3, 7),
            (8, 2, 32),
            (9, 32, 3),
            (3, 8, 2),
            (160, 32, 32),
        ] {
            let a: Vec<f64> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f64> = (0..k * n).map(|_| rng.normal()).collect();
            let bias: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            for left in [Left::Plain, Left::Transposed] {
                for init in [None, Some(bias.as_slice())] {
                    let mut c = vec![f64::NAN; m * n];
                    matmul_into(left, &a, &b, init, &mut c, m, k, n);
                    let r = reference(left, &a, &b, init, m, k, n);
                    assert!(
                        c.iter().zip(&r).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{left:?} {m}×{k}×{n} bias {}",
                        init.is_some()
                    );
                }
            }
        }
    }
}
