//! The one entry point for matrix products, and the choice between the exact and the fast kernel.
//!
//! Every figure and every number a lesson prints must be the same bits natively, in wasm32 and on the
//! server. Floating-point addition is not associative, so that holds only if every entry of a product is
//! summed in one documented order on every target. Two kernels exist:
//!
//! - [`Kernel::Exact`] (the default everywhere) is the register-blocked kernel of `dense.rs`: entry
//!   `c[i, j]` is `init + a[i, 0]·b[0, j] + a[i, 1]·b[1, j] + …`, added left to right with a separate
//!   multiply and add (Rust never fuses them on its own), on every target. It gives the bits of the
//!   textbook triple loop.
//! - [`Kernel::Fast`] (opt-in, native only) hands large products to matrixmultiply (through ndarray's safe
//!   views), which detects AVX2, FMA and AVX-512 at run time, packs panels for the caches and fuses
//!   multiply-adds. Its results depend on the machine in the last bits, so nothing that feeds a figure, a
//!   `{{num}}` or a `:::claim` may use it; on wasm32 it falls back to the exact kernel. Products smaller
//!   than [`FAST_MIN_WORK`] multiply-adds also stay on the exact kernel, where packing costs more than it
//!   saves.

use crate::dense::{self, Left};

/// Which matrix-product kernel an operation uses (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The fixed-summation-order kernel: the same bits on every target. The default.
    #[default]
    Exact,
    /// matrixmultiply natively for products of at least [`FAST_MIN_WORK`] multiply-adds (results may differ
    /// from [`Kernel::Exact`] in the last bits and between machines); the exact kernel otherwise and on
    /// wasm32.
    Fast,
}

/// Below this many multiply-adds (`m·k·n`) [`Kernel::Fast`] uses the exact kernel, where matrixmultiply's
/// packing of both operands costs about as much as the product itself. The value is a round guess, not a
/// tuned threshold: it keeps the per-head products of small attention (`32 × 16 × 32`) on the exact kernel
/// and sends the projections (`64 × 64 × 64` and up) to matrixmultiply.
pub const FAST_MIN_WORK: usize = 32 * 32 * 32;

/// How an operand of [`gemm`] is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// The matrix itself, row-major.
    Plain,
    /// The row-major transpose of the operand (so `Aᵀ B` or `A Bᵀ` need no transposed copy).
    Transposed,
}

/// `c = op(a) · op(b)` for an `m × k` left and a `k × n` right operand into the row-major `m × n` `c`
/// (overwritten).
///
/// With the exact kernel the summation orders are those of [`crate::tensor::Tensor`]'s historic loops:
/// `A B` and `Aᵀ B` start every entry at `+0.0`, and `A Bᵀ` starts at `-0.0` as `Iterator::sum` does
/// (which only matters for the sign of an all-zero sum). Both operands transposed is not needed anywhere.
///
/// # Panics
/// If both operands are transposed or a slice is shorter than its shape says.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm(
    kernel: Kernel,
    la: Layout,
    lb: Layout,
    a: &[f64],
    b: &[f64],
    c: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    #[cfg(not(target_arch = "wasm32"))]
    if kernel == Kernel::Fast && m * k * n >= FAST_MIN_WORK {
        fast::gemm(la, lb, a, b, c, m, k, n);
        return;
    }
    let _ = kernel;
    let c = &mut c[..m * n];
    match (la, lb) {
        (Layout::Plain, Layout::Plain) => dense::matmul_into(Left::Plain, a, b, None, c, m, k, n),
        (Layout::Transposed, Layout::Plain) => {
            dense::matmul_into(Left::Transposed, a, b, None, c, m, k, n)
        }
        (Layout::Plain, Layout::Transposed) => {
            // `b` is `n × k`; the kernel walks a row-major `k × n`, so transpose it once (O(kn), against the
            // O(mkn) product), and start every sum at -0.0 like `Iterator::sum`.
            let mut bt = vec![0.0; k * n];
            for (j, row) in b[..n * k].chunks_exact(k.max(1)).enumerate() {
                for (p, &v) in row.iter().enumerate() {
                    bt[p * n + j] = v;
                }
            }
            let minus_zero = vec![-0.0; n];
            dense::matmul_into(Left::Plain, a, &bt, Some(&minus_zero), c, m, k, n);
        }
        (Layout::Transposed, Layout::Transposed) => {
            panic!("gemm: both operands transposed is not supported")
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod fast {
    use super::Layout;
    use ndarray::{linalg::general_mat_mul, ArrayView2, ArrayViewMut2, ShapeBuilder};

    /// A read-only `rows × cols` view of `data` stored as `layout` says.
    fn view(data: &[f64], layout: Layout, rows: usize, cols: usize) -> ArrayView2<'_, f64> {
        let len = rows * cols;
        let v = match layout {
            Layout::Plain => ArrayView2::from_shape((rows, cols), &data[..len]),
            Layout::Transposed => ArrayView2::from_shape((rows, cols).f(), &data[..len]),
        };
        v.expect("the slice holds rows × cols entries")
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn gemm(
        la: Layout,
        lb: Layout,
        a: &[f64],
        b: &[f64],
        c: &mut [f64],
        m: usize,
        k: usize,
        n: usize,
    ) {
        let (av, bv) = (view(a, la, m, k), view(b, lb, k, n));
        let mut cv =
            ArrayViewMut2::from_shape((m, n), &mut c[..m * n]).expect("c holds m × n entries");
        // β = 0: matrixmultiply overwrites `c` without reading it.
        general_mat_mul(1.0, &av, &bv, 0.0, &mut cv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The historic loops of `Tensor::matmul`, `matmul_tn` and `matmul_nt`, kept as the reference for the
    /// bits the exact kernel must reproduce.
    fn reference(
        la: Layout,
        lb: Layout,
        a: &[f64],
        b: &[f64],
        m: usize,
        k: usize,
        n: usize,
    ) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        match (la, lb) {
            (Layout::Plain, Layout::Plain) => {
                for i in 0..m {
                    for p in 0..k {
                        for j in 0..n {
                            out[i * n + j] += a[i * k + p] * b[p * n + j];
                        }
                    }
                }
            }
            (Layout::Transposed, Layout::Plain) => {
                for p in 0..k {
                    for i in 0..m {
                        for j in 0..n {
                            out[i * n + j] += a[p * m + i] * b[p * n + j];
                        }
                    }
                }
            }
            _ => {
                for i in 0..m {
                    for j in 0..n {
                        let (ar, br) = (&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]);
                        out[i * n + j] = ar.iter().zip(br).map(|(x, y)| x * y).sum();
                    }
                }
            }
        }
        out
    }

    #[test]
    fn exact_kernel_reproduces_the_historic_loops_bit_for_bit() {
        // Includes an all-zero left operand times a negative right one, whose products are all -0.0: the
        // sign of the resulting zero is where `A Bᵀ`'s -0.0 start shows.
        let mut rng = Rng::new(3);
        for (m, k, n) in [(1, 1, 1), (5, 7, 3), (9, 33, 6), (64, 40, 10)] {
            let mut a: Vec<f64> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f64> = (0..k * n).map(|_| -rng.uniform()).collect();
            a[..k].iter_mut().for_each(|v| *v = 0.0);
            for (la, lb) in [
                (Layout::Plain, Layout::Plain),
                (Layout::Transposed, Layout::Plain),
                (Layout::Plain, Layout::Transposed),
            ] {
                let mut c = vec![f64::NAN; m * n];
                gemm(Kernel::Exact, la, lb, &a, &b, &mut c, m, k, n);
                let r = reference(la, lb, &a, &b, m, k, n);
                assert!(
                    c.iter().zip(&r).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{la:?} {lb:?} {m}×{k}×{n}"
                );
            }
        }
    }

    #[test]
    fn fast_kernel_agrees_with_the_exact_one_to_rounding() {
        // Different summation order and fused multiply-adds: agreement to ~k·ε relative, not bits.
        let mut rng = Rng::new(4);
        let (m, k, n) = (70, 90, 40);
        let a: Vec<f64> = (0..m * k).map(|_| rng.normal()).collect();
        let b: Vec<f64> = (0..k * n).map(|_| rng.normal()).collect();
        for (la, lb) in [
            (Layout::Plain, Layout::Plain),
            (Layout::Transposed, Layout::Plain),
            (Layout::Plain, Layout::Transposed),
        ] {
            let mut exact = vec![0.0; m * n];
            let mut fast = vec![f64::NAN; m * n];
            gemm(Kernel::Exact, la, lb, &a, &b, &mut exact, m, k, n);
            gemm(Kernel::Fast, la, lb, &a, &b, &mut fast, m, k, n);
            let worst = exact
                .iter()
                .zip(&fast)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-12, "{la:?} {lb:?}: {worst}");
        }
    }
}
