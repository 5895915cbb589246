//! Batched matrix products `[.., m, k] × [.., k, n]` for the tape, and their adjoints.
//!
//! The leading axes are a batch: both operands carry the same batch axes, or one of them is a plain
//! matrix shared by every batch entry. A shared right operand (the `X W` of a layer applied to every
//! token) is one product over all `batch · m` rows of the left operand, so its gradient `Xᵀ G` sums over
//! the batch inside the contraction; a shared left operand's gradient sums the per-entry products in
//! batch order.

use crate::error::ShapeError;
use crate::kernel::{gemm, Kernel, Layout};
use crate::tensor::{mismatch, Tensor};

/// The batch structure of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Batched {
    /// Number of independent products.
    pub batch: usize,
    /// Rows of each left matrix (all rows of the left operand when the right one is shared).
    pub m: usize,
    /// The shared dimension.
    pub k: usize,
    /// Columns of each right matrix.
    pub n: usize,
    /// Whether the left operand has one matrix per batch entry (else it is shared).
    pub a_batched: bool,
    /// Whether the right operand has one matrix per batch entry.
    pub b_batched: bool,
    /// The shape of the product.
    pub out_shape: Vec<usize>,
}

impl Batched {
    /// The structure of `a · b`, or a mismatch error naming `matmul`.
    pub(super) fn of(a: &Tensor, b: &Tensor) -> Result<Batched, ShapeError> {
        let (sa, sb) = (a.shape(), b.shape());
        let (ra, rb) = (sa.len(), sb.len());
        let (m, k, k2, n) = (sa[ra - 2], sa[ra - 1], sb[rb - 2], sb[rb - 1]);
        let (ba, bb) = (&sa[..ra - 2], &sb[..rb - 2]);
        if k != k2 {
            return Err(mismatch("matmul", a, b));
        }
        let with_mn = |batch: &[usize]| [batch, &[m, n]].concat();
        if bb.is_empty() {
            // A shared right operand: one product over every row of `a`.
            let rows = ba.iter().product::<usize>() * m;
            return Ok(Batched {
                batch: 1,
                m: rows,
                k,
                n,
                a_batched: false,
                b_batched: false,
                out_shape: with_mn(ba),
            });
        }
        if !ba.is_empty() && ba != bb {
            return Err(mismatch("matmul", a, b));
        }
        Ok(Batched {
            batch: bb.iter().product(),
            m,
            k,
            n,
            a_batched: !ba.is_empty(),
            b_batched: true,
            out_shape: with_mn(bb),
        })
    }

    /// Multiply-adds of the forward product (each backward product costs the same).
    pub(super) fn multiply_adds(&self) -> u64 {
        (self.batch * self.m * self.k * self.n) as u64
    }

    /// `A B`.
    pub(super) fn forward(&self, kernel: Kernel, a: &[f64], b: &[f64]) -> Vec<f64> {
        let (m, k, n) = (self.m, self.k, self.n);
        let x = Side::new(a, m * k, self.a_batched);
        let y = Side::new(b, k * n, self.b_batched);
        self.run(
            kernel,
            (Layout::Plain, Layout::Plain),
            x,
            y,
            (m, k, n),
            true,
        )
    }

    /// `dA = G Bᵀ`, summed over the batch if `A` is shared. Returns the gradient and the FLOPs spent on
    /// that sum.
    pub(super) fn grad_a(&self, kernel: Kernel, g: &[f64], b: &[f64]) -> (Vec<f64>, u64) {
        let (m, k, n) = (self.m, self.k, self.n);
        let x = Side::new(g, m * n, true);
        let y = Side::new(b, k * n, self.b_batched);
        let da = self.run(
            kernel,
            (Layout::Plain, Layout::Transposed),
            x,
            y,
            (m, n, k),
            self.a_batched,
        );
        (da, self.sum_flops(self.a_batched, m * k))
    }

    /// `dB = Aᵀ G`, summed over the batch if `B` is shared (by the product itself when `A` has all the
    /// rows). Returns the gradient and the FLOPs spent on a separate sum.
    pub(super) fn grad_b(&self, kernel: Kernel, a: &[f64], g: &[f64]) -> (Vec<f64>, u64) {
        let (m, k, n) = (self.m, self.k, self.n);
        let x = Side::new(a, m * k, self.a_batched);
        let y = Side::new(g, m * n, true);
        let db = self.run(
            kernel,
            (Layout::Transposed, Layout::Plain),
            x,
            y,
            (k, m, n),
            self.b_batched,
        );
        (db, self.sum_flops(self.b_batched, k * n))
    }

    fn sum_flops(&self, batched: bool, size: usize) -> u64 {
        if batched {
            0
        } else {
            ((self.batch - 1) * size) as u64
        }
    }

    /// One `rows × inner × cols` product per batch entry; written per entry when `out_batched`, else
    /// summed over the batch in order.
    fn run(
        &self,
        kernel: Kernel,
        (la, lb): (Layout, Layout),
        x: Side<'_>,
        y: Side<'_>,
        (rows, inner, cols): (usize, usize, usize),
        out_batched: bool,
    ) -> Vec<f64> {
        let size = rows * cols;
        let entries = if out_batched { self.batch } else { 1 };
        let mut out = vec![0.0; entries * size];
        let mut scratch = if out_batched {
            Vec::new()
        } else {
            vec![0.0; size]
        };
        for i in 0..self.batch {
            let (xs, ys) = (x.entry(i), y.entry(i));
            if out_batched || i == 0 {
                let o = if out_batched { i * size } else { 0 };
                gemm(
                    kernel,
                    la,
                    lb,
                    xs,
                    ys,
                    &mut out[o..o + size],
                    rows,
                    inner,
                    cols,
                );
            } else {
                gemm(kernel, la, lb, xs, ys, &mut scratch, rows, inner, cols);
                out.iter_mut().zip(&scratch).for_each(|(o, s)| *o += s);
            }
        }
        out
    }
}

/// One operand of a batched product: its data and how far apart its batch entries are.
#[derive(Clone, Copy)]
struct Side<'s> {
    data: &'s [f64],
    stride: usize,
}

impl<'s> Side<'s> {
    fn new(data: &'s [f64], size: usize, batched: bool) -> Side<'s> {
        Side {
            data,
            stride: if batched { size } else { 0 },
        }
    }

    fn entry(self, i: usize) -> &'s [f64] {
        &self.data[i * self.stride..]
    }
}
