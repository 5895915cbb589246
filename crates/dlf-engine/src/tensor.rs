//! A row-major, dense, `f64` n-dimensional array.
//!
//! Most of the engine works with matrices (2-D tensors). [`Tensor::rows`] and [`Tensor::cols`] view any
//! tensor as a matrix: a 2-D tensor `[r, c]` is itself, a 1-D tensor `[n]` is a row `1 × n`, a 0-D tensor
//! is `1 × 1`, and a tensor of higher rank is `shape[0] × (product of the rest)`.
//!
//! Tensors of any rank are plain row-major arrays; the autograd tape ([`crate::autograd`]) gives the last
//! two axes of a rank-3 or rank-4 tensor their matrix meaning (`[batch, rows, cols]`,
//! `[batch, heads, tokens, features]`) in its batched products and row-wise operations.
//!
//! The matrix products run through the exact kernel of [`crate::kernel`]: every entry is summed in the
//! order of the textbook loop, so they give the same bits as they always have, on every target.

use crate::error::ShapeError;
use crate::kernel::{gemm, Kernel, Layout};
use crate::rng::Rng;

/// Row-major `f64` array with an explicit shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f64>,
}

impl Tensor {
    /// A tensor of the given shape holding `data` in row-major order.
    ///
    /// # Errors
    /// [`ShapeError::DataLength`] if `data.len()` is not the product of `shape`.
    pub fn new(shape: &[usize], data: Vec<f64>) -> Result<Tensor, ShapeError> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(ShapeError::DataLength {
                shape: shape.to_vec(),
                expected,
                got: data.len(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor with every element equal to `value`.
    pub fn full(shape: &[usize], value: f64) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![value; shape.iter().product()],
        }
    }

    /// The `1 × 1` matrix holding `value` (the engine's scalar).
    pub fn scalar(value: f64) -> Tensor {
        Tensor {
            shape: vec![1, 1],
            data: vec![value],
        }
    }

    /// The `1 × n` row vector holding `values` (the shape a bias takes in the autograd graph).
    pub fn row(values: &[f64]) -> Tensor {
        Tensor {
            shape: vec![1, values.len()],
            data: values.to_vec(),
        }
    }

    /// A `rows × cols` matrix with element `(r, c)` equal to `f(r, c)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Tensor {
        let mut data = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                data.push(f(r, c));
            }
        }
        Tensor {
            shape: vec![rows, cols],
            data,
        }
    }

    /// A tensor of independent `N(0, std²)` entries drawn from `rng` in row-major order.
    pub fn randn(shape: &[usize], std: f64, rng: &mut Rng) -> Tensor {
        let n = shape.iter().product();
        let data = (0..n).map(|_| std * rng.normal()).collect();
        Tensor {
            shape: shape.to_vec(),
            data,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// The elements in row-major order, mutably (the shape cannot change through this).
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Consumes the tensor and returns its elements.
    pub fn into_data(self) -> Vec<f64> {
        self.data
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of rows when viewed as a matrix (see the module documentation).
    pub fn rows(&self) -> usize {
        match self.shape.len() {
            0 | 1 => 1,
            _ => self.shape[0],
        }
    }

    /// Number of columns when viewed as a matrix (see the module documentation).
    pub fn cols(&self) -> usize {
        match self.shape.len() {
            0 => 1,
            1 => self.shape[0],
            _ => self.shape[1..].iter().product(),
        }
    }

    /// Element `(r, c)` of the matrix view.
    ///
    /// # Panics
    /// If `(r, c)` is outside the matrix.
    pub fn get2(&self, r: usize, c: usize) -> f64 {
        let cols = self.cols();
        assert!(
            r < self.rows() && c < cols,
            "index ({r}, {c}) out of bounds"
        );
        self.data[r * cols + c]
    }

    /// Sets element `(r, c)` of the matrix view.
    ///
    /// # Panics
    /// If `(r, c)` is outside the matrix.
    pub fn set2(&mut self, r: usize, c: usize, value: f64) {
        let cols = self.cols();
        assert!(
            r < self.rows() && c < cols,
            "index ({r}, {c}) out of bounds"
        );
        self.data[r * cols + c] = value;
    }

    /// Row `r` of the matrix view as a slice.
    pub fn row_slice(&self, r: usize) -> &[f64] {
        let c = self.cols();
        &self.data[r * c..(r + 1) * c]
    }

    /// The same data viewed as an `r × c` matrix.
    ///
    /// # Errors
    /// [`ShapeError::DataLength`] if `r * c` differs from the number of elements.
    pub fn reshape(self, shape: &[usize]) -> Result<Tensor, ShapeError> {
        Tensor::new(shape, self.data)
    }

    /// Matrix product `self · other` of an `m × k` and a `k × n` matrix.
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the inner dimensions differ.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor, ShapeError> {
        let (m, k) = (self.rows(), self.cols());
        let (k2, n) = (other.rows(), other.cols());
        if k != k2 {
            return Err(mismatch("matmul", self, other));
        }
        Ok(self.product(other, Layout::Plain, Layout::Plain, (m, k, n)))
    }

    /// `selfᵀ · other` for a `k × m` and a `k × n` matrix, without forming the transpose
    /// (the shape of a weight gradient `Xᵀ dZ`).
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the row counts differ.
    pub fn matmul_tn(&self, other: &Tensor) -> Result<Tensor, ShapeError> {
        let (k, m) = (self.rows(), self.cols());
        let (k2, n) = (other.rows(), other.cols());
        if k != k2 {
            return Err(mismatch("matmul_tn", self, other));
        }
        Ok(self.product(other, Layout::Transposed, Layout::Plain, (m, k, n)))
    }

    /// `self · otherᵀ` for an `m × k` and an `n × k` matrix, without forming the transpose
    /// (the shape of an input gradient `dZ Wᵀ`).
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the column counts differ.
    pub fn matmul_nt(&self, other: &Tensor) -> Result<Tensor, ShapeError> {
        let (m, k) = (self.rows(), self.cols());
        let (n, k2) = (other.rows(), other.cols());
        if k != k2 {
            return Err(mismatch("matmul_nt", self, other));
        }
        Ok(self.product(other, Layout::Plain, Layout::Transposed, (m, k, n)))
    }

    /// The `m × n` product `op(self) · op(other)` on the exact kernel (shapes already checked).
    fn product(
        &self,
        other: &Tensor,
        la: Layout,
        lb: Layout,
        (m, k, n): (usize, usize, usize),
    ) -> Tensor {
        let mut out = vec![0.0; m * n];
        gemm(
            Kernel::Exact,
            la,
            lb,
            &self.data,
            &other.data,
            &mut out,
            m,
            k,
            n,
        );
        Tensor {
            shape: vec![m, n],
            data: out,
        }
    }

    /// The transpose of the matrix view.
    pub fn transpose(&self) -> Tensor {
        let (r, c) = (self.rows(), self.cols());
        Tensor::from_fn(c, r, |i, j| self.data[j * c + i])
    }

    /// A tensor of the same shape with `f` applied to every element.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Tensor {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// Elementwise `f(self, other)` for two tensors of the same shape.
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes differ.
    pub fn zip_map(
        &self,
        other: &Tensor,
        f: impl Fn(f64, f64) -> f64,
    ) -> Result<Tensor, ShapeError> {
        if self.shape != other.shape {
            return Err(mismatch("zip_map", self, other));
        }
        Ok(Tensor {
            shape: self.shape.clone(),
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        })
    }

    /// Sum of all elements.
    pub fn sum(&self) -> f64 {
        self.data.iter().sum()
    }

    /// Column sums of the matrix view (the shape of a bias gradient).
    pub fn col_sums(&self) -> Vec<f64> {
        let c = self.cols();
        let mut out = vec![0.0; c];
        for row in self.data.chunks_exact(c.max(1)) {
            for (o, &x) in out.iter_mut().zip(row) {
                *o += x;
            }
        }
        out
    }

    /// Frobenius norm `sqrt(Σ x²)`.
    pub fn frobenius_norm(&self) -> f64 {
        self.data.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Largest absolute elementwise difference `max |a - b|`.
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes differ.
    pub fn max_abs_diff(&self, other: &Tensor) -> Result<f64, ShapeError> {
        if self.shape != other.shape {
            return Err(mismatch("max_abs_diff", self, other));
        }
        Ok(self
            .data
            .iter()
            .zip(&other.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max))
    }

    /// Index of the largest element of each row (ties go to the first), e.g. the predicted class.
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..self.rows())
            .map(|r| {
                let row = self.row_slice(r);
                let mut best = 0;
                for (j, &x) in row.iter().enumerate() {
                    if x > row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect()
    }
}

/// A [`ShapeError::Mismatch`] naming `op` and both operand shapes.
pub(crate) fn mismatch(op: &'static str, a: &Tensor, b: &Tensor) -> ShapeError {
    ShapeError::Mismatch {
        op,
        left: a.shape.clone(),
        right: b.shape.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: usize, cols: usize, data: &[f64]) -> Tensor {
        Tensor::new(&[rows, cols], data.to_vec()).unwrap()
    }

    #[test]
    fn new_rejects_wrong_length() {
        assert_eq!(
            Tensor::new(&[2, 3], vec![0.0; 5]),
            Err(ShapeError::DataLength {
                shape: vec![2, 3],
                expected: 6,
                got: 5
            })
        );
    }

    #[test]
    fn matrix_view_of_each_rank() {
        assert_eq!(
            (Tensor::zeros(&[]).rows(), Tensor::zeros(&[]).cols()),
            (1, 1)
        );
        assert_eq!(
            (Tensor::zeros(&[4]).rows(), Tensor::zeros(&[4]).cols()),
            (1, 4)
        );
        let t = Tensor::zeros(&[2, 3, 4]);
        assert_eq!((t.rows(), t.cols()), (2, 12));
    }

    #[test]
    fn matmul_and_transposed_variants_agree() {
        // [[1,2,3],[4,5,6]] · [[7,8],[9,10],[11,12]] = [[58,64],[139,154]] (worked by hand:
        // 1·7+2·9+3·11 = 58, 1·8+2·10+3·12 = 64, 4·7+5·9+6·11 = 139, 4·8+5·10+6·12 = 154).
        let a = m(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let b = m(3, 2, &[7.0, 8.0, 9.0, 10.0, 11.0, 12.0]);
        let c = a.matmul(&b).unwrap();
        assert_eq!(c, m(2, 2, &[58.0, 64.0, 139.0, 154.0]));
        assert_eq!(a.transpose().matmul_tn(&b).unwrap(), c);
        assert_eq!(a.matmul_nt(&b.transpose()).unwrap(), c);
        assert!(matches!(
            a.matmul(&a),
            Err(ShapeError::Mismatch { op: "matmul", .. })
        ));
    }

    #[test]
    fn reductions() {
        let a = m(2, 3, &[1.0, -2.0, 3.0, 4.0, 5.0, -6.0]);
        assert!((a.sum() - 5.0).abs() < 1e-15);
        assert_eq!(a.col_sums(), vec![5.0, 3.0, -3.0]);
        // sqrt(1 + 4 + 9 + 16 + 25 + 36) = sqrt(91).
        assert!((a.frobenius_norm() - 91f64.sqrt()).abs() < 1e-15);
        assert_eq!(a.argmax_rows(), vec![2, 1]);
        assert_eq!(a.get2(1, 2), -6.0);
    }
}
