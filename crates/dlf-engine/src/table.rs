//! Compile-time concatenation of the per-lesson tables ([`crate::quantities`], [`crate::estimate`]): each lesson
//! keeps its own `SPECS` slice, and the crate exposes one static array built from them, so a lookup never
//! allocates and a table of the wrong length fails to compile.

/// The total length of `parts`, for the array length of [`concat`].
pub(crate) const fn total_len<T>(parts: &[&[T]]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < parts.len() {
        n += parts[i].len();
        i += 1;
    }
    n
}

/// `parts` joined into one array; `blank` only initialises the array before every slot is overwritten.
pub(crate) const fn concat<T: Copy, const N: usize>(parts: &[&[T]], blank: T) -> [T; N] {
    let mut out = [blank; N];
    let mut k = 0;
    let mut i = 0;
    while i < parts.len() {
        let mut j = 0;
        while j < parts[i].len() {
            out[k] = parts[i][j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    assert!(k == N, "the joined table's length does not match its parts");
    out
}
