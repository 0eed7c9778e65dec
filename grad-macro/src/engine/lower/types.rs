//! The types lowering could not know when it built a node, settled once the whole body is
//! lowered.
//!
//! A `let mut` starts with the type of its first value, which may be unknown to the macro
//! (`let mut s = cfg.offset;`, a user constant, a call on constants) or an unsuffixed literal
//! (`let mut s = 0.0;`), and only a later write (`s += x`, maybe at the bottom of a loop) says
//! that it holds a float. Its reads, built before that write, and everything computed from
//! them would otherwise stay of unknown type, and a value of unknown type never carries a
//! derivative: the gradient through it would silently be zero. So types are refined to a
//! fixpoint — a variable takes the type of what is written into it, its reads the variable's,
//! arithmetic its operands' — and a call on constants whose argument turns out to be a float
//! becomes a differentiated call.
//!
//! Refinement only moves up: unknown → anything, an unsuffixed float → a float of known
//! precision. A known type is never replaced by another.

use crate::engine::ir::{Elem, FloatTy, Function, NodeId, Op, Stmt, Ty};

/// Refines the types of `f`'s variables and nodes until nothing changes.
pub fn settle(f: &mut Function) {
    arrays_by_use(f);
    loop {
        let mut changed = false;
        let mut writes: Vec<(usize, Ty)> = Vec::new();
        let mut phis: Vec<(NodeId, Ty)> = Vec::new();
        f.body.walk(&mut |s| match s {
            Stmt::Branch(b) => {
                for (k, &out) in b.outputs.iter().enumerate() {
                    let ty = b
                        .arms
                        .iter()
                        .map(|a| f.node(a.yields[k]).ty)
                        .fold(Ty::Unknown, Ty::unify);
                    phis.push((out, ty));
                }
            }
            Stmt::Decl(v, Some(x)) | Stmt::Assign(v, _, x) => {
                writes.push((v.index(), f.node(*x).ty));
            }
            Stmt::Store(store) => {
                let mut ty = f.node(store.value).ty;
                for _ in &store.path {
                    ty = ty.array_of();
                }
                writes.push((store.var.index(), ty));
            }
            _ => {}
        });
        for (v, ty) in writes {
            changed |= refine(&mut f.vars[v].ty, ty);
        }
        for (n, ty) in phis {
            changed |= refine(&mut f.nodes[n.index()].ty, ty);
        }
        for i in 0..f.nodes.len() {
            let id = NodeId(u32::try_from(i).unwrap_or(u32::MAX));
            if let Some(ty) = derived(f, id) {
                let mut own = f.nodes[i].ty;
                if refine(&mut own, ty) {
                    f.nodes[i].ty = own;
                    changed = true;
                }
            }
            if let Op::ConstCall(callee) = f.nodes[i].op
                && f.nodes[i].ty == Ty::Unknown
                && let Some(float) = f.nodes[i]
                    .args
                    .iter()
                    .find_map(|&a| f.node(a).ty.float_ty())
            {
                f.nodes[i].op = Op::Call(callee);
                f.nodes[i].ty = Ty::Float(float);
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// A call's result is typed by its float arguments (the macro cannot see the callee), as a
/// scalar; where it is indexed — directly, through a branch that yields it, or through a
/// variable it is stored in — it returns an array, and so are the values on the way.
fn arrays_by_use(f: &mut Function) {
    let mut indexed = vec![false; f.nodes.len()];
    let mut var_indexed = vec![false; f.vars.len()];
    for node in &f.nodes {
        if node.op == Op::Index {
            indexed[node.args[0].index()] = true;
        }
    }
    // Branch outputs to the values their arms yield, and the values written into variables.
    let mut yields: Vec<(NodeId, NodeId)> = Vec::new();
    let mut writes: Vec<(usize, NodeId)> = Vec::new();
    f.body.walk(&mut |s| match s {
        Stmt::Branch(b) => {
            for (k, &out) in b.outputs.iter().enumerate() {
                yields.extend(b.arms.iter().map(|a| (out, a.yields[k])));
            }
        }
        Stmt::Decl(v, Some(x)) | Stmt::Assign(v, _, x) => writes.push((v.index(), *x)),
        _ => {}
    });
    loop {
        let mut changed = false;
        for &(out, value) in &yields {
            if indexed[out.index()] && !indexed[value.index()] {
                indexed[value.index()] = true;
                changed = true;
            }
        }
        for (i, node) in f.nodes.iter().enumerate() {
            if indexed[i]
                && let Op::ReadVar(v) = node.op
                && !var_indexed[v.index()]
            {
                var_indexed[v.index()] = true;
                changed = true;
            }
        }
        for &(v, value) in &writes {
            if var_indexed[v] && !indexed[value.index()] {
                indexed[value.index()] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let as_array = |ty: Ty| match ty {
        Ty::Float(_) => Some(ty.array_of()),
        _ => None,
    };
    for (i, node) in f.nodes.iter_mut().enumerate() {
        if indexed[i]
            && matches!(node.op, Op::Call(_) | Op::Phi(_) | Op::ReadVar(_))
            && let Some(ty) = as_array(node.ty)
        {
            node.ty = ty;
        }
    }
    for (v, var) in f.vars.iter_mut().enumerate() {
        if var_indexed[v]
            && let Some(ty) = as_array(var.ty)
        {
            var.ty = ty;
        }
    }
}

/// The type `n` has by its operands (or its variable), for the ops whose type lowering took
/// from them.
fn derived(f: &Function, n: NodeId) -> Option<Ty> {
    let node = f.node(n);
    let arg = |i: usize| f.node(node.args[i]).ty;
    Some(match node.op {
        Op::ReadVar(v) => f.var(v).ty,
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => arg(0).unify(arg(1)),
        Op::Neg | Op::NoGrad => arg(0),
        Op::Math(m) => node
            .args
            .iter()
            .enumerate()
            .filter(|&(i, _)| m.float_operand(i))
            .map(|(_, &a)| f.node(a).ty)
            .fold(Ty::Unknown, Ty::unify),
        Op::Index => arg(0).element(),
        Op::Call(_) => node
            .args
            .iter()
            .find_map(|&a| f.node(a).ty.float_ty())
            .map(Ty::Float)?,
        _ => return None,
    })
}

/// Whether the body mixes types Rust never mixes, in an operation whose operand types the
/// macro knows for certain: `f32` with `f64`, a float with an integer (`x * 2`,
/// `x.powi(2.0)`, `x.max(0)`). rustc reports that at the user's line, in the user's own
/// function; the generated functions are then stubs, so that it is not reported again for
/// each copy of the expression. Types the macro guessed (a call's result, a variable's) never
/// count, so correct code is never taken for wrong.
pub fn mixes_types(f: &Function) -> bool {
    let mut certain = vec![false; f.nodes.len()];
    for (i, node) in f.nodes.iter().enumerate() {
        let known = |k: usize| certain[node.args[k].index()];
        let ty = |k: usize| f.node(node.args[k]).ty;
        let wrong = match node.op {
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem | Op::Cmp(_) => {
                known(0) && known(1) && clash(ty(0), ty(1))
            }
            Op::Math(m) => (0..node.args.len()).any(|k| {
                known(k)
                    && if m.float_operand(k) {
                        ty(k) == Ty::Int
                            || (0..node.args.len())
                                .any(|j| m.float_operand(j) && known(j) && clash(ty(k), ty(j)))
                    } else {
                        ty(k).is_float()
                    }
            }),
            _ => false,
        };
        if wrong {
            return true;
        }
        certain[i] = match node.op {
            Op::Param(_) | Op::Lit(_) | Op::Cast(_) | Op::LoopIndex(_) | Op::Len => true,
            Op::Const(_) => node.ty != Ty::Unknown,
            Op::Neg
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Math(_)
            | Op::NoGrad
            | Op::Index => (0..node.args.len()).all(known),
            _ => false,
        };
    }
    false
}

/// `f32` with `f64`, or a float with an integer.
fn clash(a: Ty, b: Ty) -> bool {
    use FloatTy::{F32, F64, Lit};
    matches!(
        (a, b),
        (Ty::Float(F32), Ty::Float(F64))
            | (Ty::Float(F64), Ty::Float(F32))
            | (Ty::Float(F32 | F64 | Lit), Ty::Int)
            | (Ty::Int, Ty::Float(F32 | F64 | Lit))
    )
}

/// Moves `ty` up to `to` where `to` says more; `true` if it changed.
fn refine(ty: &mut Ty, to: Ty) -> bool {
    let better = match (*ty, to) {
        (Ty::Unknown, t) => t != Ty::Unknown,
        (Ty::Float(FloatTy::Lit), Ty::Float(t)) => t != FloatTy::Lit,
        (Ty::Array(Elem::Float(FloatTy::Lit), r), Ty::Array(Elem::Float(t), s)) => {
            r == s && t != FloatTy::Lit
        }
        // `[c; 4]` of a constant the macro cannot see, then a float stored into it.
        (Ty::Array(Elem::Other, r), Ty::Array(Elem::Float(_), s)) => r == s,
        _ => false,
    };
    if better {
        *ty = to;
    }
    better
}

/// What a loop bound's integer type is, as far as ranges care.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Width {
    /// A type whose ranges know their length: up to 32 bits, `usize`, `isize`.
    Exact,
    /// `i64`, `u64`, `i128`, `u128`: `Range` is not an `ExactSizeIterator`.
    Wide,
    /// An unsuffixed literal: takes the other operand's type, `i32` alone.
    Literal,
    /// A type the macro cannot see.
    Unknown,
}

impl Width {
    /// The width of an integer type by its name.
    pub fn of_name(name: &str) -> Width {
        match name {
            "i64" | "u64" | "i128" | "u128" => Width::Wide,
            "i8" | "i16" | "i32" | "isize" | "u8" | "u16" | "u32" | "usize" => Width::Exact,
            _ => Width::Unknown,
        }
    }

    /// The width of an integer parameter's type (`&usize` as `usize`).
    pub fn of_type(ty: &syn::Type) -> Width {
        match ty {
            syn::Type::Reference(r) => Width::of_type(&r.elem),
            syn::Type::Paren(p) => Width::of_type(&p.elem),
            syn::Type::Path(p) => p
                .path
                .get_ident()
                .map_or(Width::Unknown, |i| Width::of_name(&i.to_string())),
            _ => Width::Unknown,
        }
    }

    /// The width of an operation on both: a wide or unknown operand decides.
    pub fn with(self, other: Width) -> Width {
        use Width::{Exact, Literal, Unknown, Wide};
        match (self, other) {
            (Wide, _) | (_, Wide) => Wide,
            (Unknown, _) | (_, Unknown) => Unknown,
            (Exact, _) | (_, Exact) => Exact,
            (Literal, Literal) => Literal,
        }
    }

    /// Whether ranges of this type know their length.
    pub fn exact(self) -> bool {
        matches!(self, Width::Exact | Width::Literal)
    }
}

impl super::Lowerer<'_> {
    /// The width of the integer value `n`, from what it is built of.
    pub(super) fn width(&self, n: NodeId) -> Width {
        let f = &self.b.f;
        let node = f.node(n);
        match node.op {
            Op::Param(i) => self
                .param_widths
                .get(i as usize)
                .copied()
                .unwrap_or(Width::Unknown),
            Op::Lit(l) => match &f.lit(l).tokens {
                Some(tokens) => {
                    let text = tokens.to_string();
                    let suffix = text.trim_start_matches(|c: char| {
                        c == '-' || c.is_ascii_digit() || c == '_' || c == ' '
                    });
                    if suffix.is_empty() {
                        Width::Literal
                    } else {
                        Width::of_name(suffix)
                    }
                }
                None => Width::Literal,
            },
            Op::Cast(sym) => Width::of_name(&f.sym(sym).to_string()),
            Op::Len => Width::Exact,
            Op::LoopIndex(_) => self.index_widths.get(&n).copied().unwrap_or(Width::Unknown),
            Op::ReadVar(v) => self.var_widths.get(&v).copied().unwrap_or(Width::Unknown),
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Neg
            | Op::Bit(_)
            | Op::Method(_) => node
                .args
                .iter()
                .fold(Width::Literal, |w, &a| w.with(self.width(a))),
            _ => Width::Unknown,
        }
    }
}
