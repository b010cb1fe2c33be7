//! The software float functions of the transformer operators, in Rust: the same operations
//! in the same order as `wgsl/transformer/prelude.wgsl`, so the CPU reference gets the GPU's
//! bits. Rust rounds every f32 operation on its own (it never contracts to an FMA), which is
//! what the WGSL's contraction fences force on the GPU.

const MIN_NORMAL: f32 = 1.175_494_4e-38;
const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
const ERF_P: f32 = 0.327_591_1;
const ERF_A: [f32; 5] = [
    0.254_829_6,
    -0.284_496_72,
    1.421_413_8,
    -1.453_152_1,
    1.061_405_4,
];
/// Taylor coefficients of e^r, highest degree (7) first.
const EXP_C: [f32; 8] = [
    0.000_198_412_7,
    0.001_388_888_9,
    0.008_333_334,
    0.041_666_668,
    0.166_666_67,
    0.5,
    1.0,
    1.0,
];

/// Subnormals to zero.
pub fn ftz(x: f32) -> f32 {
    if x.abs() < MIN_NORMAL {
        0.0
    } else {
        x
    }
}

/// e^x for x ≤ 0 (0 below −86, so never subnormal).
pub fn exp(x: f32) -> f32 {
    if x < -86.0 {
        return 0.0;
    }
    let n = (x * LOG2E + 0.5).floor();
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = EXP_C[0];
    for c in &EXP_C[1..] {
        p = p * r + c;
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// 1 / x for normal x > 0.
pub fn recip(x: f32) -> f32 {
    let mut y = f32::from_bits(0x7ef3_11c3u32.wrapping_sub(x.to_bits()));
    for _ in 0..4 {
        y = y * (2.0 - x * y);
    }
    y
}

/// 1 / √x for normal x > 0.
pub fn rsqrt(x: f32) -> f32 {
    let h = x * 0.5;
    let mut y = f32::from_bits(0x5f37_5a86u32.wrapping_sub(x.to_bits() >> 1));
    for _ in 0..3 {
        y = y * (1.5 - h * (y * y));
    }
    y
}

/// erf (Abramowitz and Stegun 7.1.26).
pub fn erf(x: f32) -> f32 {
    let ax = x.abs();
    let t = recip(1.0 + ERF_P * ax);
    let mut p = ERF_A[4];
    for a in ERF_A[..4].iter().rev() {
        p = p * t + a;
    }
    p *= t;
    let y = 1.0 - p * exp(-(ax * ax));
    if x < 0.0 {
        -y
    } else {
        y
    }
}

/// GELU with erf: x/2 (1 + erf(x / √2)).
pub fn gelu(x: f32) -> f32 {
    (x * 0.5) * (1.0 + erf(x * FRAC_1_SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WGSL prelude's constants are these, to the bit (the prelude is parsed by naga, which
    /// rounds its literals as Rust does: the GPU tests would see any difference).
    #[test]
    fn wgsl_constants_are_the_rust_ones() {
        let prelude = include_str!("../wgsl/transformer/prelude.wgsl");
        let constant = |name: &str| -> f32 {
            let line = prelude
                .lines()
                .find(|l| l.starts_with(&format!("const {name}: f32 = ")))
                .unwrap_or_else(|| panic!("{name} not in the prelude"));
            let lit = line.rsplit(" = ").next().unwrap().trim_end_matches(';');
            lit.parse::<f64>().unwrap() as f32
        };
        assert_eq!(constant("MIN_NORMAL"), MIN_NORMAL);
        assert_eq!(constant("LOG2E"), LOG2E);
        assert_eq!(constant("LN2_HI"), LN2_HI);
        assert_eq!(constant("LN2_LO"), LN2_LO);
        assert_eq!(constant("FRAC_1_SQRT_2"), FRAC_1_SQRT_2);
        assert_eq!(constant("ERF_P"), ERF_P);
        for (i, a) in ERF_A.iter().enumerate() {
            assert_eq!(constant(&format!("ERF_A{}", i + 1)), *a);
        }
        let poly: Vec<f32> = prelude
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let lit = l
                    .strip_prefix("var p = ")
                    .or_else(|| l.strip_prefix("p = add(mul(p, r), "))?;
                let v = lit.trim_end_matches([';', ')']).parse::<f64>().ok()?;
                Some(v as f32)
            })
            .collect();
        assert_eq!(poly, EXP_C);
    }

    #[test]
    fn the_software_functions_are_accurate() {
        let mut worst = [0f64; 5];
        for i in 0..=20_000 {
            let x = -10.0 + i as f32 * 0.001;
            let rel = |a: f32, b: f64| ((f64::from(a) - b) / b).abs();
            if x <= 0.0 {
                worst[0] = worst[0].max(rel(exp(x), f64::from(x).exp()));
            }
            let pos = 0.01 + (i as f32) * 0.05;
            worst[1] = worst[1].max(rel(recip(pos), 1.0 / f64::from(pos)));
            worst[2] = worst[2].max(rel(rsqrt(pos), 1.0 / f64::from(pos).sqrt()));
            let e = f64::from(erf(x * 0.5));
            worst[3] = worst[3].max((e - libm_erf(f64::from(x * 0.5))).abs());
            let g = f64::from(x * 0.5);
            worst[4] = worst[4].max(
                (f64::from(gelu(x * 0.5)) - g * 0.5 * (1.0 + libm_erf(g / 2f64.sqrt()))).abs(),
            );
        }
        assert!(worst[0] < 4e-7, "exp relative error {}", worst[0]);
        assert!(worst[1] < 2e-7, "recip relative error {}", worst[1]);
        assert!(worst[2] < 3e-7, "rsqrt relative error {}", worst[2]);
        assert!(worst[3] < 1e-6, "erf absolute error {}", worst[3]);
        assert!(worst[4] < 2e-6, "gelu absolute error {}", worst[4]);
        assert_eq!(exp(-87.0), 0.0);
        assert!(exp(-86.0) >= MIN_NORMAL);
        assert_eq!(exp(0.0), 1.0);
    }

    /// erf in f64, the accuracy yardstick: the Maclaurin series below 2.5, the continued
    /// fraction of erfc above (both far below f32's resolution on [-5, 5]).
    fn libm_erf(x: f64) -> f64 {
        if x.abs() < 2.5 {
            // Maclaurin series.
            let mut sum = 0.0;
            let mut term = x;
            let mut n = 0.0;
            while term.abs() > 1e-17 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -x * x / n;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            // Continued fraction for erfc.
            let ax = x.abs();
            let mut f = 0.0;
            for k in (1..60).rev() {
                f = (k as f64 / 2.0) / (ax + f);
            }
            let erfc = (-ax * ax).exp() / std::f64::consts::PI.sqrt() / (ax + f);
            (1.0 - erfc).copysign(x)
        }
    }
}
