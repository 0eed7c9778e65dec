// An `f32` function differentiated with respect to one of its parameters, with a
// statement macro that sees the values it names.
#[derive_grad(wrt(w))]
pub fn loss(w: f32, x: f32, target: f32) -> f32 {
    let prediction = w * x;
    let error = prediction - target;
    debug_assert!(error.is_finite(), "error = {error}");
    0.5 * error * error
}
