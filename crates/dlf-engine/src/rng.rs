//! A small seeded pseudo-random number generator, identical on every platform (native and wasm32).
//!
//! The generator is xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
//! ACM TOMS 2021). Its 256-bit state is filled from the 64-bit seed with SplitMix64 (Steele, Lea & Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014), as the xoshiro authors recommend, so that
//! nearby seeds such as 1 and 2 give unrelated streams. Normal deviates use the Box–Muller transform
//! (Box & Muller, "A note on the generation of random normal deviates", Ann. Math. Statist. 1958).
//!
//! Only integer operations and IEEE-754 basic arithmetic plus `ln`, `sqrt`, `sin`, `cos` are used, so a
//! seed gives the same stream everywhere the platform's libm is correctly rounded for those functions.

/// Seeded xoshiro256** generator. Cheap to clone; cloning forks an identical stream.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// The second Box–Muller deviate, kept for the next call to [`Rng::normal`].
    spare_normal: Option<f64>,
}

/// One SplitMix64 step: advances `state` and returns the next output.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// The next 64 uniformly distributed bits (xoshiro256**).
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform deviate in `[0, 1)`: the top 53 bits of [`Rng::next_u64`] scaled by `2^-53`, so every
    /// value is an exact multiple of `2^-53`.
    pub fn uniform(&mut self) -> f64 {
        // 2^-53 = 1.1102230246251565e-16; 53 bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal deviate N(0, 1) by the Box–Muller transform
    /// `z0 = sqrt(-2 ln u1) cos(2π u2)`, `z1 = sqrt(-2 ln u1) sin(2π u2)`; the second value is cached.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // `1 - uniform()` lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * crate::math::ln(u1)).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * crate::math::sin(theta));
        r * crate::math::cos(theta)
    }

    /// A uniform integer in `0..n`, without modulo bias (Lemire, "Fast random integer generation in an
    /// interval", ACM TOMACS 2019: multiply-shift with rejection of the short final bucket).
    ///
    /// # Panics
    /// If `n == 0`, since the range `0..0` is empty.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0): the range 0..0 is empty");
        let n = n as u64;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            let low = m as u64;
            // Values whose low half falls below `2^64 mod n` belong to a bucket that would be over-represented.
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }

    /// One of `options`, uniformly (by [`Rng::below`]).
    ///
    /// # Panics
    /// If `options` is empty.
    pub fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())]
    }

    /// Shuffles `v` in place uniformly at random (Fisher–Yates, in Durstenfeld's 1964 in-place form).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let mut c = Rng::new(43);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn splitmix_matches_reference_value() {
        // The first SplitMix64 output for seed 0 is 0xE220A8397B1DCDAF; this value is quoted in Vigna's
        // reference C implementation (prng.di.unimi.it) and in many ports of it.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn uniform_and_normal_moments() {
        // With n = 200_000 samples the standard error of the mean is 1/sqrt(12 n) ≈ 6.5e-4 for U[0,1) and
        // 1/sqrt(n) ≈ 2.2e-3 for N(0,1); the tolerances below are about 5 standard errors.
        let mut r = Rng::new(7);
        let n = 200_000;
        let mut su = 0.0;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            let z = r.normal();
            s1 += z;
            s2 += z * z;
        }
        let n = n as f64;
        assert!((su / n - 0.5).abs() < 3.5e-3);
        assert!((s1 / n).abs() < 1.2e-2);
        // The variance estimate has standard error sqrt(2/n) ≈ 3.2e-3.
        assert!((s2 / n - 1.0).abs() < 1.6e-2);
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        // 60_000 draws over 6 buckets: each count is Binomial(60000, 1/6), sd ≈ 91, so ±600 is > 6 sd.
        let mut r = Rng::new(3);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[r.below(6)] += 1;
        }
        for c in counts {
            assert!((9_400..=10_600).contains(&c), "count {c}");
        }
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Rng::new(11);
        let mut v: Vec<usize> = (0..50).collect();
        r.shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }
}
