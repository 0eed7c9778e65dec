//! The generator keeps making every loop shape it was taught (an earlier one never made a
//! variable updated after its last use in a loop body, and so never caught that bug).

use grad_fuzz::program::{HELPERS, SHAPES, programs};

#[test]
fn every_tracked_shape_is_generated_often() {
    let batch = programs(1, 1000, "");
    for &shape in SHAPES {
        let n = batch[HELPERS..]
            .iter()
            .filter(|p| p.tags.contains(shape))
            .count();
        assert!(
            n >= 20,
            "only {n} of 1000 programs have the shape {shape:?}"
        );
    }
}
