//! A Zipf sampler using rejection-inversion (Hörmann and Derflinger, 1996).
//!
//! Rank `k` of `n` is drawn with probability `k^-s / H(n, s)`, where `H(n, s)` is the generalised
//! harmonic number. Inverting the cumulative distribution directly would need either an `O(n)`
//! table or a search; rejection-inversion instead inverts the integral of the continuous hat
//! function `h(x) = x^-s`, rounds to the nearest integer, and accepts the result unless it falls
//! in the thin sliver where the hat overestimates the discrete mass. The set-up is `O(1)`, a
//! sample costs one `exp`, one `ln` and rarely a second round, and the expected number of rounds
//! is below 1.1 for every `s` and `n`, so a key space of a billion costs as little as one of ten.
//!
//! W. Hörmann, G. Derflinger: "Rejection-inversion to generate variates from monotone discrete
//! distributions", ACM TOMACS 6(3), 1996. The helper functions that keep `s` near 1 accurate
//! follow the same formulation as Apache Commons' `RejectionInversionZipfSampler`.

use super::rng::Rng;

/// Draws ranks `1..=n` with probability proportional to `rank^-exponent`.
#[derive(Debug, Clone)]
pub struct Zipf {
    n: f64,
    exponent: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    squeeze: f64,
}

impl Zipf {
    /// A sampler over `n` ranks; `None` unless `n >= 1` and `exponent` is finite and `>= 0`.
    ///
    /// An exponent of 0 is the uniform distribution; 0.99 is the classic YCSB skew.
    pub fn new(n: u64, exponent: f64) -> Option<Self> {
        if n == 0 || !exponent.is_finite() || exponent < 0.0 {
            return None;
        }
        let n = n as f64;
        let mut zipf = Self {
            n,
            exponent,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            squeeze: 0.0,
        };
        zipf.h_integral_x1 = zipf.h_integral(1.5) - 1.0;
        zipf.h_integral_n = zipf.h_integral(n + 0.5);
        zipf.squeeze = 2.0 - zipf.h_integral_inverse(zipf.h_integral(2.5) - zipf.h(2.0));
        Some(zipf)
    }

    /// The number of ranks.
    pub fn n(&self) -> u64 {
        self.n as u64
    }

    /// The exponent `s`.
    pub fn exponent(&self) -> f64 {
        self.exponent
    }

    /// A rank in `1..=n`; rank 1 is the most frequent.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        loop {
            // u is uniform in (h_integral_x1, h_integral_n].
            let u = self.h_integral_n + rng.next_f64() * (self.h_integral_x1 - self.h_integral_n);
            let x = self.h_integral_inverse(u);
            let k = (x + 0.5).floor().clamp(1.0, self.n);
            if k - x <= self.squeeze || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    /// The hat function `h(x) = x^-s`.
    fn h(&self, x: f64) -> f64 {
        (-self.exponent * x.ln()).exp()
    }

    /// `H(x)`, an antiderivative of `h`: `(x^(1-s) - 1) / (1 - s)`, or `ln x` when `s = 1`.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        expm1_over_x((1.0 - self.exponent) * log_x) * log_x
    }

    /// The inverse of [`Self::h_integral`].
    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        (ln1p_over_x(t) * x).exp()
    }
}

/// `ln(1 + x) / x`, accurate near `x = 0` (where it tends to 1).
fn ln1p_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `(e^x - 1) / x`, accurate near `x = 0` (where it tends to 1).
fn expm1_over_x(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact probabilities of ranks `1..=n`.
    fn probabilities(n: u64, s: f64) -> Vec<f64> {
        let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
        let total: f64 = weights.iter().sum();
        weights.iter().map(|w| w / total).collect()
    }

    /// Pearson's chi-square statistic of `samples` draws against the exact distribution.
    fn chi_square(n: u64, s: f64, samples: u64, seed: u64) -> f64 {
        let zipf = Zipf::new(n, s).expect("valid parameters");
        let mut rng = Rng::new(seed);
        let mut counts = vec![0u64; n as usize];
        for _ in 0..samples {
            let k = zipf.sample(&mut rng);
            assert!((1..=n).contains(&k), "rank {k} outside 1..={n}");
            counts[(k - 1) as usize] += 1;
        }
        probabilities(n, s)
            .iter()
            .zip(&counts)
            .map(|(p, &c)| {
                let expected = p * samples as f64;
                (c as f64 - expected).powi(2) / expected
            })
            .sum()
    }

    #[test]
    fn matches_exact_distribution_chi_square() {
        // 49 degrees of freedom: the 0.999 quantile of chi-square(49) is 85.4.
        for (i, s) in [0.0, 0.5, 0.99, 1.0, 1.2, 2.0].into_iter().enumerate() {
            let stat = chi_square(50, s, 200_000, 11 + i as u64);
            assert!(stat < 85.4, "s = {s}: chi-square {stat:.1} over 49 dof");
        }
    }

    #[test]
    fn rank_frequency_over_a_large_key_space() {
        let n = 1_000_000;
        let s = 0.99;
        let zipf = Zipf::new(n, s).expect("valid parameters");
        let mut rng = Rng::new(5);
        let samples = 400_000u64;
        let mut top = [0u64; 10];
        let mut max_seen = 0;
        for _ in 0..samples {
            let k = zipf.sample(&mut rng);
            assert!((1..=n).contains(&k));
            max_seen = max_seen.max(k);
            if k <= 10 {
                top[(k - 1) as usize] += 1;
            }
        }
        let harmonic: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
        for (i, &count) in top.iter().enumerate() {
            let p = ((i + 1) as f64).powf(-s) / harmonic;
            let expected = p * samples as f64;
            let sigma = (expected * (1.0 - p)).sqrt();
            assert!(
                (count as f64 - expected).abs() < 5.0 * sigma,
                "rank {}: {count} draws, expected {expected:.0} +- {sigma:.0}",
                i + 1
            );
        }
        // The tail is reached: with s < 1 most of the mass is spread over the long tail.
        assert!(max_seen > n / 2, "largest rank drawn {max_seen}");
    }

    #[test]
    fn single_rank_and_invalid_parameters() {
        let zipf = Zipf::new(1, 0.99).expect("valid parameters");
        let mut rng = Rng::new(0);
        assert!((0..100).all(|_| zipf.sample(&mut rng) == 1));
        assert!(Zipf::new(0, 1.0).is_none());
        assert!(Zipf::new(10, -0.5).is_none());
        assert!(Zipf::new(10, f64::NAN).is_none());
        assert_eq!(
            Zipf::new(10, 1.5).map(|z| (z.n(), z.exponent())),
            Some((10, 1.5))
        );
    }
}
