//! A real workload: a fixed-point (Q19.12) Mandelbrot image, and its CPU reference.

use super::{groups, i32_bytes, u32_bytes, KernelCase, Size};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/mandelbrot.wgsl");
const FRAC: u32 = 12;
/// Integer operations per iteration (3 multiplies, 3 shifts, 4 adds/subs, 2 compares).
const OPS_PER_ITER: u64 = 12;

/// The view: top-left corner and step per pixel in Q19.12.
#[derive(Clone, Copy, Debug)]
pub struct View {
    pub width: u32,
    pub height: u32,
    pub max_iter: u32,
    pub x0: i32,
    pub y0: i32,
    pub step: i32,
}

pub fn reference(v: &View) -> Vec<u32> {
    let four = 4i32 << FRAC;
    let mut out = Vec::with_capacity((v.width * v.height) as usize);
    for py in 0..v.height as i32 {
        for px in 0..v.width as i32 {
            let cr = v.x0.wrapping_add(px.wrapping_mul(v.step));
            let ci = v.y0.wrapping_add(py.wrapping_mul(v.step));
            let (mut zr, mut zi, mut it) = (0i32, 0i32, 0u32);
            while it < v.max_iter {
                let zr2 = zr.wrapping_mul(zr) >> FRAC;
                let zi2 = zi.wrapping_mul(zi) >> FRAC;
                if zr2.wrapping_add(zi2) > four {
                    break;
                }
                let t = zr2.wrapping_sub(zi2).wrapping_add(cr);
                zi = (zr.wrapping_mul(zi) >> (FRAC - 1)).wrapping_add(ci);
                zr = t;
                it += 1;
            }
            out.push(it);
        }
    }
    out
}

pub fn case(size: Size) -> KernelCase {
    let (width, height, max_iter) = match size {
        Size::Test => (64u32, 48u32, 64u32),
        Size::Bench => (512, 384, 256),
    };
    // x in [-2.5, 1.0), centred vertically.
    let step = ((7i32 << FRAC) / 2) / width as i32;
    let view = View {
        width,
        height,
        max_iter,
        x0: -(5 << FRAC) / 2,
        y0: -(step * height as i32) / 2,
        step,
    };
    let mut jb = JobBuilder::new();
    let io = jb.output(u64::from(width * height * 4));
    let mut uniform = u32_bytes(&[width, height, max_iter, 0]);
    uniform.extend(i32_bytes(&[view.x0, view.y0, view.step, 0]));
    let iu = jb.uniform(uniform);
    // Gas: at most max_iter iterations, max_iter + 1 loop-body entries per invocation.
    jb.gas_per_invocation(max_iter + 1);
    jb.pass(
        WGSL,
        "main",
        [groups(width, 8), groups(height, 8), 1],
        &[(0, io), (1, iu)],
    );
    let iterations: u64 = reference(&view).iter().map(|&i| u64::from(i)).sum();
    KernelCase {
        name: "mandelbrot",
        wgsl: WGSL,
        job: jb.build(),
        ops: iterations * OPS_PER_ITER,
        op_unit: "op",
        reference: Box::new(move || vec![u32_bytes(&reference(&view))]),
    }
}
