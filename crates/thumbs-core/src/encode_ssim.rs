//! SSIM (Wang et al. 2004) on luma: BT.601 grey, the standard constants (K1 = 0.01, K2 = 0.03,
//! L = 255), mean over the window positions that fit inside the image (smaller windows for
//! images smaller than the window). Two windows, because published tools differ and a
//! comparison can come out either way between them on a close pair:
//! - [`ssim_rgb`]: 11×11 Gaussian (σ = 1.5), Wang et al.'s own, and what `bench/run.py`
//!   reports;
//! - [`ssim_rgb_uniform`]: 7×7 uniform (population variances), the default window of
//!   scikit-image and what `bench/formats_check.py` computes.
//!
//! Used to pick the WebP and AVIF quality per thumbnail and by the format measurements
//! (examples/formats.rs).

/// Mean SSIM of two RGB8 images of `width` × `height` under the 11×11 Gaussian window: 1.0 for
/// identical images. Panics if a buffer is not `width × height × 3` bytes or a side is 0.
pub fn ssim_rgb(a: &[u8], b: &[u8], width: usize, height: usize) -> f64 {
    Planes::new(a, b, width, height).ssim(GAUSSIAN_RADIUS, gaussian)
}

/// [`ssim_rgb`] under the 7×7 uniform window.
pub fn ssim_rgb_uniform(a: &[u8], b: &[u8], width: usize, height: usize) -> f64 {
    Planes::new(a, b, width, height).ssim(UNIFORM_RADIUS, uniform)
}

/// SSIM under both windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ssim {
    pub gaussian: f64,
    pub uniform: f64,
}

impl Ssim {
    /// Both measures of `b` against `a` (RGB8, as [`ssim_rgb`]); the grey planes and their
    /// products are made once for both.
    pub fn of(a: &[u8], b: &[u8], width: usize, height: usize) -> Ssim {
        let planes = Planes::new(a, b, width, height);
        Ssim {
            gaussian: planes.ssim(GAUSSIAN_RADIUS, gaussian),
            uniform: planes.ssim(UNIFORM_RADIUS, uniform),
        }
    }

    /// At least `other + margin` under both windows.
    pub fn at_least(&self, other: &Ssim, margin: f64) -> bool {
        self.gaussian >= other.gaussian + margin && self.uniform >= other.uniform + margin
    }
}

const GAUSSIAN_RADIUS: usize = 5;
const UNIFORM_RADIUS: usize = 3;

/// The grey planes of two images and their products, which every window filters.
struct Planes {
    width: usize,
    height: usize,
    x: Vec<f32>,
    y: Vec<f32>,
    xx: Vec<f32>,
    yy: Vec<f32>,
    xy: Vec<f32>,
}

impl Planes {
    fn new(a: &[u8], b: &[u8], width: usize, height: usize) -> Planes {
        assert!(width > 0 && height > 0, "SSIM of an empty image");
        assert_eq!(a.len(), width * height * 3, "a is not {width}x{height} RGB");
        assert_eq!(b.len(), width * height * 3, "b is not {width}x{height} RGB");
        let grey = |rgb: &[u8]| -> Vec<f32> {
            rgb.chunks_exact(3)
                .map(|p| {
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
                })
                .collect()
        };
        let (x, y) = (grey(a), grey(b));
        let product = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(a, b)| a * b).collect();
        Planes {
            width,
            height,
            xx: product(&x, &x),
            yy: product(&y, &y),
            xy: product(&x, &y),
            x,
            y,
        }
    }

    /// Mean SSIM with the separable window `kernel(radius)` (2·radius + 1 taps, summing to 1),
    /// the radius shrunk to fit images smaller than the window.
    fn ssim(&self, max_radius: usize, kernel: fn(usize) -> Vec<f32>) -> f64 {
        let (width, height) = (self.width, self.height);
        let radius = max_radius.min((width.min(height) - 1) / 2);
        let kernel = kernel(radius);
        let (ow, oh) = (width - 2 * radius, height - 2 * radius);
        let blur = |plane: &[f32]| blur_valid(plane, width, height, &kernel);
        let (mx, my) = (blur(&self.x), blur(&self.y));
        let (sxx, syy, sxy) = (blur(&self.xx), blur(&self.yy), blur(&self.xy));
        const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
        const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
        let total: f64 = (0..ow * oh)
            .map(|i| {
                let (mx, my) = (f64::from(mx[i]), f64::from(my[i]));
                let vx = f64::from(sxx[i]) - mx * mx;
                let vy = f64::from(syy[i]) - my * my;
                let cov = f64::from(sxy[i]) - mx * my;
                ((2.0 * mx * my + C1) * (2.0 * cov + C2))
                    / ((mx * mx + my * my + C1) * (vx + vy + C2))
            })
            .sum();
        total / (ow * oh) as f64
    }
}

fn uniform(radius: usize) -> Vec<f32> {
    vec![1.0 / (2 * radius + 1) as f32; 2 * radius + 1]
}

fn gaussian(radius: usize) -> Vec<f32> {
    let k: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-(d * d) / (2.0 * 1.5 * 1.5)).exp()
        })
        .collect();
    let sum: f32 = k.iter().sum();
    k.into_iter().map(|v| v / sum).collect()
}

/// Separable filtering of one plane, keeping only the positions where the window fits.
fn blur_valid(plane: &[f32], width: usize, height: usize, kernel: &[f32]) -> Vec<f32> {
    let taps = kernel.len();
    let (ow, oh) = (width + 1 - taps, height + 1 - taps);
    let mut rows = vec![0.0f32; ow * height];
    for (src, dst) in plane.chunks_exact(width).zip(rows.chunks_exact_mut(ow)) {
        for (x, out) in dst.iter_mut().enumerate() {
            *out = src[x..x + taps]
                .iter()
                .zip(kernel)
                .map(|(p, k)| p * k)
                .sum();
        }
    }
    let mut out = vec![0.0f32; ow * oh];
    for (y, dst) in out.chunks_exact_mut(ow).enumerate() {
        for (k, &weight) in kernel.iter().enumerate() {
            let src = &rows[(y + k) * ow..(y + k + 1) * ow];
            for (o, s) in dst.iter_mut().zip(src) {
                *o += weight * s;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_images_score_one_and_noise_scores_less() {
        let a: Vec<u8> = (0..40 * 30 * 3).map(|i| (i * 7 % 256) as u8).collect();
        assert!((ssim_rgb(&a, &a, 40, 30) - 1.0).abs() < 1e-6);
        let b: Vec<u8> = a
            .iter()
            .enumerate()
            .map(|(i, &v)| v.wrapping_add((i % 5) as u8 * 9))
            .collect();
        let s = ssim_rgb(&a, &b, 40, 30);
        assert!(s < 0.99 && s > -1.0, "{s}");
        // tiny images use a smaller window
        assert!((ssim_rgb(&a[..3], &a[..3], 1, 1) - 1.0).abs() < 1e-6);
        assert!((ssim_rgb_uniform(&a[..3], &a[..3], 1, 1) - 1.0).abs() < 1e-6);
        let u = ssim_rgb_uniform(&b, &a, 40, 30);
        assert!(u < 0.99 && u > -1.0, "{u}");
        assert!((ssim_rgb_uniform(&a, &a, 40, 30) - 1.0).abs() < 1e-6);
    }

    /// The uniform window against a direct computation over every 7×7 window (population
    /// variances), as bench/formats_check.py does it.
    #[test]
    fn the_uniform_window_is_the_plain_7x7_mean() {
        let (w, h) = (23, 17);
        let a: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let b: Vec<u8> = a.iter().map(|&v| v / 2 + 40).collect();
        let grey = |rgb: &[u8], i: usize| {
            0.299 * f64::from(rgb[3 * i])
                + 0.587 * f64::from(rgb[3 * i + 1])
                + 0.114 * f64::from(rgb[3 * i + 2])
        };
        let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
        let (mut total, mut n) = (0.0, 0.0);
        for oy in 0..=h - 7 {
            for ox in 0..=w - 7 {
                let idx: Vec<usize> = (0..49).map(|k| (oy + k / 7) * w + ox + k % 7).collect();
                let mean = |f: &dyn Fn(usize) -> f64| idx.iter().map(|&i| f(i)).sum::<f64>() / 49.0;
                let (mx, my) = (mean(&|i| grey(&a, i)), mean(&|i| grey(&b, i)));
                let vx = mean(&|i| (grey(&a, i) - mx).powi(2));
                let vy = mean(&|i| (grey(&b, i) - my).powi(2));
                let cov = mean(&|i| (grey(&a, i) - mx) * (grey(&b, i) - my));
                total += ((2.0 * mx * my + c1) * (2.0 * cov + c2))
                    / ((mx * mx + my * my + c1) * (vx + vy + c2));
                n += 1.0;
            }
        }
        let direct = total / n;
        let ours = ssim_rgb_uniform(&a, &b, w, h);
        assert!((ours - direct).abs() < 1e-4, "{ours} vs {direct}");
        let both = Ssim::of(&a, &b, w, h);
        assert_eq!(both.uniform, ours);
        assert!(both.at_least(&both, 0.0) && !both.at_least(&both, 0.0001));
    }
}
