//! SSIM (Wang et al. 2004) on luma: BT.601 grey, 11×11 Gaussian window (σ = 1.5), the
//! standard constants (K1 = 0.01, K2 = 0.03, L = 255), mean over the window positions that
//! fit inside the image (smaller windows for images under 11 px). The measure
//! `bench/run.py` reports (grey, Gaussian window), so the numbers compare.
//!
//! Used to pick the WebP quality per thumbnail (the lowest that is at least as close to the
//! pixels as the JPEG) and by the format measurements (examples/formats.rs).

/// Mean SSIM of two RGB8 images of `width` × `height`: 1.0 for identical images. Panics if a
/// buffer is not `width × height × 3` bytes or a side is 0.
pub fn ssim_rgb(a: &[u8], b: &[u8], width: usize, height: usize) -> f64 {
    assert!(width > 0 && height > 0, "SSIM of an empty image");
    assert_eq!(a.len(), width * height * 3, "a is not {width}x{height} RGB");
    assert_eq!(b.len(), width * height * 3, "b is not {width}x{height} RGB");
    let grey = |rgb: &[u8]| -> Vec<f32> {
        rgb.chunks_exact(3)
            .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
            .collect()
    };
    let (x, y) = (grey(a), grey(b));
    let radius = 5.min((width.min(height) - 1) / 2);
    let kernel = gaussian(radius);
    let (ow, oh) = (width - 2 * radius, height - 2 * radius);
    let blur = |plane: &[f32]| blur_valid(plane, width, height, &kernel);
    let product = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(a, b)| a * b).collect::<Vec<_>>();
    let (mx, my) = (blur(&x), blur(&y));
    let (sxx, syy, sxy) = (
        blur(&product(&x, &x)),
        blur(&product(&y, &y)),
        blur(&product(&x, &y)),
    );
    const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
    const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
    let total: f64 = (0..ow * oh)
        .map(|i| {
            let (mx, my) = (f64::from(mx[i]), f64::from(my[i]));
            let vx = f64::from(sxx[i]) - mx * mx;
            let vy = f64::from(syy[i]) - my * my;
            let cov = f64::from(sxy[i]) - mx * my;
            ((2.0 * mx * my + C1) * (2.0 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2))
        })
        .sum();
    total / (ow * oh) as f64
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
    }
}
