//! The IR verifier, run after every pass in debug builds and tests.
//!
//! It checks the invariants every pass relies on: operands are defined before use and in
//! scope (a value of an arm is not read after the arm unless it was hoisted), every node is
//! let-bound at most once, branches yield one value per output, and variables are declared
//! before they are written.

use super::{Adapter, Block, BufferArg, Function, LoopKind, NodeId, Selector, Stmt, VarKind};
use std::collections::HashSet;

/// Checks `f`; returns a description of the first violation.
pub fn verify(f: &Function) -> Result<(), String> {
    // Passes read operands by position: every node has the operands its op takes.
    for (i, node) in f.nodes.iter().enumerate() {
        let fixed = node.op.arity().is_none_or(|arity| node.args.len() == arity);
        let receiver = !matches!(node.op, super::Op::Method(_)) || !node.args.is_empty();
        if !fixed || !receiver {
            return Err(format!("%{i} has {} operands", node.args.len()));
        }
    }
    let mut let_bound = HashSet::new();
    f.body.walk(&mut |stmt| {
        if let Stmt::Let(n) = stmt {
            let_bound.insert(*n);
        }
    });
    let mut v = Verifier {
        f,
        scopes: vec![HashSet::new()],
        declared: vec![HashSet::new()],
        bound: HashSet::new(),
        let_bound,
    };
    // Hoisted nodes are visible everywhere after their definition; approximate by allowing
    // them anywhere (their declaration is emitted at the top level).
    for id in &f.hoisted {
        v.scopes[0].insert(*id);
    }
    v.block(&f.body)?;
    if let Some(ret) = f.ret {
        v.use_node(ret, "return")?;
    }
    Ok(())
}

struct Verifier<'a> {
    f: &'a Function,
    scopes: Vec<HashSet<NodeId>>,
    declared: Vec<HashSet<u32>>,
    bound: HashSet<NodeId>,
    /// Every node with a `Let` anywhere; the others are printed inline where they are used.
    let_bound: HashSet<NodeId>,
}

impl Verifier<'_> {
    fn visible(&self, id: NodeId) -> bool {
        let node = self.f.node(id);
        node.op.is_leaf() || self.scopes.iter().any(|s| s.contains(&id))
    }

    /// Conditions and nodes without a `Let` are printed inline where they are used, so what
    /// must be in scope there is what they read.
    fn use_node(&self, id: NodeId, what: &str) -> Result<(), String> {
        if id.index() >= self.f.nodes.len() {
            return Err(format!("{what}: %{} does not exist", id.0));
        }
        let node = self.f.node(id);
        let printed_inline = node.op.is_cheap()
            || (!self.let_bound.contains(&id)
                && !matches!(node.op, super::Op::Phi(_) | super::Op::LoopIndex(_)));
        if printed_inline && !node.op.is_leaf() {
            return node.args.iter().try_for_each(|&a| self.use_node(a, what));
        }
        if self.visible(id) {
            Ok(())
        } else {
            Err(format!("{what}: %{} is used out of scope", id.0))
        }
    }

    fn var_declared(&self, var: u32) -> bool {
        let kind = self.f.vars.get(var as usize).map(|v| v.kind);
        matches!(
            kind,
            Some(VarKind::Buffer | VarKind::Param | VarKind::Tape(_))
        ) || self.declared.iter().any(|d| d.contains(&var))
    }

    fn block(&mut self, block: &Block) -> Result<(), String> {
        for stmt in &block.stmts {
            self.stmt(stmt)?;
        }
        Ok(())
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<(), String> {
        match stmt {
            Stmt::Let(id) => {
                let node = self.f.node(*id);

                for &arg in &node.args {
                    if arg >= *id {
                        return Err(format!("%{} reads %{} defined after it", id.0, arg.0));
                    }
                    self.use_node(arg, &format!("operand of %{}", id.0))?;
                }
                if !self.bound.insert(*id) {
                    return Err(format!("%{} is let-bound twice", id.0));
                }
                if let super::Op::ReadVar(var) = node.op
                    && !self.var_declared(var.0)
                {
                    return Err(format!("%{} reads ${} before its declaration", id.0, var.0));
                }
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(*id);
                }
            }
            Stmt::Branch(branch) => {
                match &branch.selector {
                    Selector::If(c) | Selector::Match(c, _) => self.use_node(*c, "selector")?,
                }
                match &branch.selector {
                    Selector::Match(_, pats) if pats.len() != branch.arms.len() => {
                        return Err("match with a pattern count unlike its arm count".into());
                    }
                    Selector::If(_) if branch.arms.len() != 2 => {
                        return Err(format!("`if` with {} arms", branch.arms.len()));
                    }
                    _ => {}
                }
                for arm in &branch.arms {
                    if arm.yields.len() != branch.outputs.len() {
                        return Err(format!(
                            "arm yields {} values for {} outputs",
                            arm.yields.len(),
                            branch.outputs.len()
                        ));
                    }
                    self.scopes.push(HashSet::new());
                    self.declared.push(HashSet::new());
                    let inner = self.block(&arm.block);
                    let yields = arm
                        .yields
                        .iter()
                        .try_for_each(|&y| self.use_node(y, "yield"));
                    self.scopes.pop();
                    self.declared.pop();
                    inner?;
                    yields?;
                }
                for &out in &branch.outputs {
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.insert(out);
                    }
                }
            }
            Stmt::Decl(var, init) => {
                if let Some(init) = init {
                    self.use_node(*init, "declaration")?;
                }
                if let Some(d) = self.declared.last_mut() {
                    d.insert(var.0);
                }
            }
            Stmt::Assign(var, _, value) => {
                self.use_node(*value, "assignment")?;
                if !self.var_declared(var.0) {
                    return Err(format!("${} is assigned before its declaration", var.0));
                }
            }
            Stmt::Pullback(call) => {
                for &a in call.args.iter().chain([&call.d_out]) {
                    self.use_node(a, "pullback operand")?;
                }
                for buffer in &call.buffers {
                    if let BufferArg::Var(var, path) = buffer {
                        if !self.var_declared(var.0) {
                            return Err(format!("buffer ${} is not declared", var.0));
                        }
                        for &i in path {
                            self.use_node(i, "buffer index")?;
                        }
                    }
                }
            }
            Stmt::Effect(effect) => {
                for (_, id) in &effect.scope {
                    self.use_node(*id, "effect")?;
                }
            }
            Stmt::Store(store) => {
                for &i in store.path.iter().chain([&store.value]) {
                    self.use_node(i, "store")?;
                }
                if !self.var_declared(store.var.0) {
                    return Err(format!(
                        "${} is stored into before its declaration",
                        store.var.0
                    ));
                }
            }
            Stmt::Push(tape, value) => {
                self.use_node(*value, "push")?;
                if !self.var_declared(tape.0) {
                    return Err(format!("tape ${} is not declared", tape.0));
                }
            }
            Stmt::Rewind(tape) => {
                if !self.var_declared(tape.0) {
                    return Err(format!("tape ${} is not declared", tape.0));
                }
            }
            Stmt::Loop(l) => {
                match &l.kind {
                    LoopKind::Range {
                        start,
                        end,
                        adapters,
                        ..
                    } => {
                        self.use_node(*start, "range start")?;
                        self.use_node(*end, "range end")?;
                        for adapter in adapters {
                            if let Adapter::StepBy(n) | Adapter::Take(n) = adapter {
                                self.use_node(*n, "range adapter")?;
                            }
                        }
                    }
                    LoopKind::While { header, cond } => {
                        self.scopes.push(HashSet::new());
                        self.declared.push(HashSet::new());
                        let result = self
                            .block(header)
                            .and_then(|()| self.use_node(*cond, "while condition"));
                        self.scopes.pop();
                        self.declared.pop();
                        result?;
                    }
                    LoopKind::Infinite => {}
                }
                self.scopes.push(l.index.into_iter().collect());
                self.declared.push(HashSet::new());
                let result = self
                    .block(&l.body)
                    .and_then(|()| l.exit.map_or(Ok(()), |e| self.use_node(e, "loop exit")));
                self.scopes.pop();
                self.declared.pop();
                result?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::verify;
    use crate::engine::ir::builder::Builder;
    use crate::engine::ir::{Arm, Branch, FloatTy, Function, Op, Selector, Stmt, Ty};
    use proc_macro2::Span;

    #[test]
    fn a_value_of_an_arm_read_after_the_arm_is_rejected() {
        let mut b = Builder::new(Function::default());
        let f64t = Ty::Float(FloatTy::F64);
        let x = b.leaf(Op::Param(0), f64t, Span::call_site());
        let c = b.bool(true, Span::call_site());
        b.open();
        let s = b.add(
            Op::Math(crate::engine::ir::Math::Sqrt),
            vec![x],
            f64t,
            Span::call_site(),
        );
        let arm = b.close();
        b.push(Stmt::Branch(Branch {
            selector: Selector::If(c),
            arms: vec![
                Arm {
                    block: arm,
                    yields: vec![],
                },
                Arm::default(),
            ],
            outputs: vec![],
        }));
        let after = b.add(Op::Neg, vec![s], f64t, Span::call_site());
        let mut f = b.finish();
        f.ret = Some(after);
        let err = verify(&f).unwrap_err();
        assert!(err.contains("out of scope"), "{err}");
        f.hoisted.insert(s);
        assert_eq!(verify(&f), Ok(()));
    }

    /// Passes index operands and arms by position: a node with the wrong operand count, or
    /// an `if` without exactly two arms, is an internal error rather than a panic later.
    #[test]
    fn arities_and_arm_counts_are_checked() {
        let mut b = Builder::new(Function::default());
        let f64t = Ty::Float(FloatTy::F64);
        let x = b.leaf(Op::Param(0), f64t, Span::call_site());
        let bad = b.add(Op::Add, vec![x], f64t, Span::call_site());
        let mut f = b.finish();
        f.ret = Some(bad);
        assert!(verify(&f).unwrap_err().contains("operands"));

        let mut b = Builder::new(Function::default());
        let c = b.bool(true, Span::call_site());
        b.push(Stmt::Branch(Branch {
            selector: Selector::If(c),
            arms: vec![Arm::default(), Arm::default(), Arm::default()],
            outputs: vec![],
        }));
        let f = b.finish();
        assert!(verify(&f).unwrap_err().contains("arms"));
    }
}
