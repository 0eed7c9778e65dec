//! Questions about the user's syntax that lowering asks before it lowers anything.

use crate::engine::ir::{Bit, Ty};
use crate::engine::signature::scalar_ty;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::Visit;
use syn::{BinOp, Expr, Ident, Pat};

/// Statement macros kept in the forward sweep (they only read values).
pub const ALLOWED_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "println",
    "eprintln",
    "print",
    "eprint",
];

/// One arm of an `if`/`match`, syntactically.
pub enum ArmSyntax<'s> {
    /// `{ … }`
    Block(&'s syn::Block),
    /// An expression arm or an `else if`.
    Expr(&'s Expr),
    /// The missing `else`.
    Missing,
}

/// The arms of `e` if it is an `if` or a `match`.
pub fn branch_arms(e: &Expr) -> Option<Vec<ArmSyntax<'_>>> {
    match e {
        Expr::If(i) => Some(vec![
            ArmSyntax::Block(&i.then_branch),
            match &i.else_branch {
                None => ArmSyntax::Missing,
                Some((_, els)) => ArmSyntax::Expr(els),
            },
        ]),
        Expr::Match(m) => Some(m.arms.iter().map(|a| ArmSyntax::Expr(&a.body)).collect()),
        Expr::Paren(p) => branch_arms(&p.expr),
        _ => None,
    }
}

/// Every path through the arm ends in `return`.
pub fn always_returns_arm(arm: &ArmSyntax<'_>) -> bool {
    match arm {
        ArmSyntax::Block(b) => always_returns_block(b),
        ArmSyntax::Expr(e) => always_returns(e),
        ArmSyntax::Missing => false,
    }
}

/// Some path through the arm contains `return`.
pub fn may_return_arm(arm: &ArmSyntax<'_>) -> bool {
    let mut finder = ReturnFinder(false);
    match arm {
        ArmSyntax::Block(b) => finder.visit_block(b),
        ArmSyntax::Expr(e) => finder.visit_expr(e),
        ArmSyntax::Missing => {}
    }
    finder.0
}

fn always_returns_block(block: &syn::Block) -> bool {
    block.stmts.iter().any(|s| match s {
        syn::Stmt::Expr(e, _) => always_returns(e),
        _ => false,
    })
}

fn always_returns(e: &Expr) -> bool {
    match e {
        Expr::Return(_) => true,
        Expr::Block(b) => b.label.is_none() && always_returns_block(&b.block),
        Expr::Paren(p) => always_returns(&p.expr),
        Expr::If(i) => {
            always_returns_block(&i.then_branch)
                && i.else_branch
                    .as_ref()
                    .is_some_and(|(_, e)| always_returns(e))
        }
        Expr::Match(m) => !m.arms.is_empty() && m.arms.iter().all(|a| always_returns(&a.body)),
        _ => false,
    }
}

/// Whether a loop (at any depth) inside `stmts` assigns the variable `name`, plainly or
/// through an index (`name = …`, `name += …`, `name[i] = …`). Such a variable is carried
/// from one iteration to the next, so it lives in a mutable variable rather than in SSA
/// values.
pub fn assigned_in_loop(stmts: &[&syn::Stmt], name: &str) -> bool {
    let mut finder = LoopAssignFinder {
        name,
        loops: 0,
        found: false,
    };
    for stmt in stmts {
        finder.visit_stmt(stmt);
    }
    finder.found
}

struct LoopAssignFinder<'n> {
    name: &'n str,
    loops: usize,
    found: bool,
}

impl LoopAssignFinder<'_> {
    fn target(&mut self, target: &Expr) {
        let mut root = target;
        while let Expr::Index(i) = root {
            root = &i.expr;
        }
        if self.loops > 0 && plain_ident(root).is_some_and(|i| name_of(i) == self.name) {
            self.found = true;
        }
    }
}

impl<'ast> Visit<'ast> for LoopAssignFinder<'_> {
    fn visit_expr_assign(&mut self, e: &'ast syn::ExprAssign) {
        self.target(&e.left);
        syn::visit::visit_expr_assign(self, e);
    }
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        if compound_op(&e.op).is_some() {
            self.target(&e.left);
        }
        syn::visit::visit_expr_binary(self, e);
    }
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.loops += 1;
        syn::visit::visit_expr_for_loop(self, e);
        self.loops -= 1;
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.loops += 1;
        syn::visit::visit_expr_while(self, e);
        self.loops -= 1;
    }
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.loops += 1;
        syn::visit::visit_expr_loop(self, e);
        self.loops -= 1;
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether `name` is indexed (`name[i]`) anywhere in `stmts`.
pub fn indexed_in(stmts: &[&syn::Stmt], name: &str) -> bool {
    struct Finder<'n>(&'n str, bool);
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_expr_index(&mut self, e: &'ast syn::ExprIndex) {
            if plain_ident(&e.expr).is_some_and(|i| name_of(i) == self.0) {
                self.1 = true;
            }
            syn::visit::visit_expr_index(self, e);
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut finder = Finder(name, false);
    for stmt in stmts {
        finder.visit_stmt(stmt);
    }
    finder.1
}

/// Whether `e` contains a `return` (outside closures).
pub fn contains_return(e: &Expr) -> bool {
    let mut finder = ReturnFinder(false);
    finder.visit_expr(e);
    finder.0
}

struct ReturnFinder(bool);

impl<'ast> Visit<'ast> for ReturnFinder {
    fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
        self.0 = true;
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {
        // A `return` in a closure returns from the closure.
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// A `let` pattern: a name, whether it is `mut`, and the annotated scalar type if any.
pub enum LetBinding {
    /// `let x`, `let mut x: f64`
    Name(Ident, bool, Option<Ty>),
    /// `let _`
    Wild,
}

/// The binding a `let` pattern makes, or `Err` for patterns outside the subset.
pub fn binding_of(pat: &Pat) -> Result<LetBinding, ()> {
    match pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => Ok(LetBinding::Name(
            p.ident.clone(),
            p.mutability.is_some(),
            None,
        )),
        Pat::Wild(_) => Ok(LetBinding::Wild),
        Pat::Type(t) => match binding_of(&t.pat)? {
            LetBinding::Name(ident, mutable, _) => {
                Ok(LetBinding::Name(ident, mutable, scalar_ty(&t.ty)))
            }
            LetBinding::Wild => Ok(LetBinding::Wild),
        },
        _ => Err(()),
    }
}

/// The float type of the elements of a `let` annotated `[f64; N]` (or `[f32; N]`).
pub fn float_array_of(pat: &Pat) -> Option<crate::engine::ir::FloatTy> {
    let Pat::Type(t) = pat else {
        return None;
    };
    let syn::Type::Array(a) = &*t.ty else {
        return None;
    };
    match scalar_ty(&a.elem)? {
        Ty::Float(f) => Some(f),
        _ => None,
    }
}

/// The patterns and values of `let (a, b) = (e1, e2);`, a tuple destructured into names
/// (same arity, no `else`); `None` for any other `let`.
pub fn tuple_let(local: &syn::Local) -> Option<(Vec<&Pat>, Vec<&Expr>)> {
    let Pat::Tuple(pats) = &local.pat else {
        return None;
    };
    let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
    let mut e = &*init.expr;
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    let Expr::Tuple(elems) = e else {
        return None;
    };
    (pats.elems.len() == elems.elems.len())
        .then(|| (pats.elems.iter().collect(), elems.elems.iter().collect()))
}

/// The operator of a compound assignment (`+=` → `+`).
pub fn compound_op(op: &BinOp) -> Option<crate::engine::ir::Op> {
    use crate::engine::ir::Op;
    Some(match op {
        BinOp::AddAssign(_) => Op::Add,
        BinOp::SubAssign(_) => Op::Sub,
        BinOp::MulAssign(_) => Op::Mul,
        BinOp::DivAssign(_) => Op::Div,
        BinOp::RemAssign(_) => Op::Rem,
        BinOp::BitAndAssign(_) => Op::Bit(Bit::And),
        BinOp::BitOrAssign(_) => Op::Bit(Bit::Or),
        BinOp::BitXorAssign(_) => Op::Bit(Bit::Xor),
        BinOp::ShlAssign(_) => Op::Bit(Bit::Shl),
        BinOp::ShrAssign(_) => Op::Bit(Bit::Shr),
        _ => return None,
    })
}

/// The name of a variable as the engine keeps it: without the `r#` of a raw identifier
/// (emission adds it back where the name is a keyword).
pub fn name_of(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// `x` if the expression is a plain local name.
pub fn plain_ident(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        Expr::Paren(p) => plain_ident(&p.expr),
        _ => None,
    }
}

/// A `match` pattern with its bindings removed (the emitted code replays the match without
/// binding anything), and the name it binds the scrutinee to, if any. `Err` holds the part
/// of the pattern outside the subset.
pub fn sanitize_pattern(pat: &Pat) -> Result<(TokenStream, Option<String>), Box<Pat>> {
    match pat {
        Pat::Lit(_) | Pat::Range(_) | Pat::Wild(_) | Pat::Path(_) | Pat::Const(_) => {
            Ok((pat.to_token_stream(), None))
        }
        Pat::Paren(p) => sanitize_pattern(&p.pat),
        // `N =>` where `N` is a constant, by Rust's naming convention.
        Pat::Ident(p) if p.subpat.is_none() && starts_uppercase(&p.ident) => {
            Ok((pat.to_token_stream(), None))
        }
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() => match &p.subpat {
            None => Ok((
                quote::quote_spanned!(p.ident.span()=> _),
                Some(name_of(&p.ident)),
            )),
            Some((_, sub)) => {
                let (tokens, inner) = sanitize_pattern(sub)?;
                if inner.is_some() {
                    return Err(Box::new(pat.clone()));
                }
                Ok((tokens, Some(name_of(&p.ident))))
            }
        },
        Pat::Or(or) => {
            let mut cases = Vec::new();
            for case in &or.cases {
                match sanitize_pattern(case)? {
                    (tokens, None) => cases.push(tokens),
                    (_, Some(_)) => return Err(Box::new(case.clone())),
                }
            }
            Ok((quote::quote!(#(#cases)|*), None))
        }
        other => Err(Box::new(other.clone())),
    }
}

fn starts_uppercase(ident: &Ident) -> bool {
    ident
        .to_string()
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn return_shapes_are_recognised() {
        let e: Expr = parse_quote!(if c {
            return 1.0;
        } else {
            x = 2.0;
        });
        let arms = branch_arms(&e).unwrap();
        assert!(always_returns_arm(&arms[0]) && !always_returns_arm(&arms[1]));
        assert!(!may_return_arm(&arms[1]));
        let e: Expr = parse_quote!(if c {
            if d {
                return 1.0;
            }
        } else {
            return 2.0;
        });
        let arms = branch_arms(&e).unwrap();
        assert!(!always_returns_arm(&arms[0]) && may_return_arm(&arms[0]));
        assert!(always_returns_arm(&arms[1]));
    }

    #[test]
    fn patterns_lose_their_bindings() {
        // `.ok()`: without syn's `extra-traits` (the fuzz crate's build) `Pat` is not `Debug`.
        let tokens = |p: &Pat| sanitize_pattern(p).ok().map(|(t, _)| t.to_string());
        let p: Pat = parse_quote!(_);
        assert_eq!(tokens(&p).as_deref(), Some("_"));
        let p: Pat = parse_quote!(k @ 1..=3);
        let (tokens_k, name) = sanitize_pattern(&p).ok().unwrap_or_default();
        assert_eq!(
            (tokens_k.to_string(), name.as_deref()),
            ("1 ..= 3".into(), Some("k"))
        );
        let p: Pat = parse_quote!(0 | 1 | N);
        assert_eq!(tokens(&p).as_deref(), Some("0 | 1 | N"));
        let p: Pat = parse_quote!((a, b));
        assert!(sanitize_pattern(&p).is_err());
    }
}
