//! The unit tests' random inputs: a seeded 32-bit xorshift generator (Marsaglia, "Xorshift
//! RNGs", 2003, shifts 13 / 17 / 5), reproducible from run to run and without a dependency.

pub(crate) struct XorShift(u32);

impl XorShift {
    /// A generator from a nonzero seed (zero would stay zero).
    pub(crate) fn new(seed: u32) -> XorShift {
        XorShift(seed.max(1))
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}
