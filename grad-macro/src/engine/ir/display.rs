//! A textual form of the IR, for unit tests and debugging (`GRAD_DEBUG_IR=1` prints it).
//!
//! ```text
//! %2 = add %0 %1 : f64  // a
//! if %3 {
//!   %4 = math.sqrt %2 : f64
//!   yield %4
//! } else { … } -> %6
//! ```

use super::{
    Adapter, AssignOp, Block, BufferArg, Elem, FloatTy, Function, LitValue, LoopKind, Op, Selector,
    Stmt, Ty,
};
use std::fmt::{self, Write as _};

impl Function {
    /// The whole function as text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{}: %{}", p.name, p.node.0))
            .collect();
        let _ = writeln!(out, "fn({}) {{", params.join(", "));
        self.write_block(&mut out, &self.body, 1);
        if let Some(ret) = self.ret {
            let _ = writeln!(out, "  return %{}", ret.0);
        }
        out.push('}');
        out
    }

    fn write_block(&self, out: &mut String, block: &Block, depth: usize) {
        let pad = "  ".repeat(depth);
        for stmt in &block.stmts {
            match stmt {
                Stmt::Let(id) => {
                    let node = self.node(*id);
                    let args: Vec<String> = node.args.iter().map(|a| format!("%{}", a.0)).collect();
                    let hoisted = if self.hoisted.contains(id) {
                        " hoisted"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "{pad}%{} = {} {} : {}{hoisted}",
                        id.0,
                        self.op_text(node.op),
                        args.join(" "),
                        ty_text(node.ty)
                    );
                    if let Some(name) = &node.name {
                        let _ = write!(out, "  // {name}");
                    }
                    out.push('\n');
                }
                Stmt::Branch(branch) => {
                    let head = match &branch.selector {
                        Selector::If(c) => format!("if %{}", c.0),
                        Selector::Match(s, _) => format!("match %{}", s.0),
                    };
                    let _ = writeln!(out, "{pad}{head} {{");
                    for (i, arm) in branch.arms.iter().enumerate() {
                        if i > 0 {
                            let _ = writeln!(out, "{pad}}} arm {{");
                        }
                        self.write_block(out, &arm.block, depth + 1);
                        if !arm.yields.is_empty() {
                            let ys: Vec<String> =
                                arm.yields.iter().map(|y| format!("%{}", y.0)).collect();
                            let _ = writeln!(out, "{pad}  yield {}", ys.join(" "));
                        }
                    }
                    let outs: Vec<String> =
                        branch.outputs.iter().map(|o| format!("%{}", o.0)).collect();
                    if outs.is_empty() {
                        let _ = writeln!(out, "{pad}}}");
                    } else {
                        let _ = writeln!(out, "{pad}}} -> {}", outs.join(" "));
                    }
                }
                Stmt::Decl(var, init) => {
                    let init = init.map_or("zero".to_owned(), |i| format!("%{}", i.0));
                    let _ = writeln!(out, "{pad}decl ${} {} = {init}", var.0, self.var(*var).name);
                }
                Stmt::Assign(var, op, value) => {
                    let op = if *op == AssignOp::Add { "+=" } else { "=" };
                    let _ = writeln!(out, "{pad}${} {op} %{}", var.0, value.0);
                }
                Stmt::Pullback(call) => {
                    let args: Vec<String> = call.args.iter().map(|a| format!("%{}", a.0)).collect();
                    let bufs: Vec<String> = call
                        .buffers
                        .iter()
                        .map(|b| match b {
                            BufferArg::Var(v, path) => {
                                let mut text = format!("${}", v.0);
                                for i in path {
                                    let _ = write!(text, "[%{}]", i.0);
                                }
                                text
                            }
                            BufferArg::Discard(_) => "_".to_owned(),
                        })
                        .collect();
                    let _ = writeln!(
                        out,
                        "{pad}pullback {}({}; %{}; {})",
                        self.sym(call.callee),
                        args.join(" "),
                        call.d_out.0,
                        bufs.join(" ")
                    );
                }
                Stmt::Effect(effect) => {
                    let _ = writeln!(out, "{pad}effect {}", effect.tokens);
                }
                Stmt::Store(store) => {
                    let path: Vec<String> =
                        store.path.iter().map(|i| format!("[%{}]", i.0)).collect();
                    let op = if store.op == AssignOp::Add { "+=" } else { "=" };
                    let _ = writeln!(
                        out,
                        "{pad}${}{} {op} %{}",
                        store.var.0,
                        path.concat(),
                        store.value.0
                    );
                }
                Stmt::Push(tape, value) => {
                    let _ = writeln!(out, "{pad}push ${} %{}", tape.0, value.0);
                }
                Stmt::Rewind(tape) => {
                    let _ = writeln!(out, "{pad}rewind ${}", tape.0);
                }
                Stmt::Loop(l) => {
                    let index = l.index.map_or("_".to_owned(), |i| format!("%{}", i.0));
                    match &l.kind {
                        LoopKind::Range {
                            start,
                            end,
                            inclusive,
                            adapters,
                            ..
                        } => {
                            let dots = if *inclusive { "..=" } else { ".." };
                            let chain: String = adapters
                                .iter()
                                .map(|a| match a {
                                    Adapter::StepBy(k) => format!(".step_by(%{})", k.0),
                                    Adapter::Rev => ".rev()".to_owned(),
                                    Adapter::Take(n) => format!(".take(%{})", n.0),
                                })
                                .collect();
                            let _ = writeln!(
                                out,
                                "{pad}for {index} in (%{}{dots}%{}){chain} {{",
                                start.0, end.0
                            );
                        }
                        LoopKind::While { header, cond } => {
                            let _ = writeln!(out, "{pad}while {{");
                            self.write_block(out, header, depth + 1);
                            let _ = writeln!(out, "{pad}  cond %{}", cond.0);
                            let _ = writeln!(out, "{pad}}} do {{");
                        }
                        LoopKind::Infinite => {
                            let _ = writeln!(out, "{pad}loop {{");
                        }
                    }
                    self.write_block(out, &l.body, depth + 1);
                    if let Some(exit) = l.exit {
                        let _ = writeln!(out, "{pad}  exit if %{}", exit.0);
                    }
                    let trips = l
                        .trips
                        .map_or(String::new(), |t| format!(" trips %{}", t.0));
                    let _ = writeln!(out, "{pad}}}{trips}");
                }
            }
        }
    }

    fn op_text(&self, op: Op) -> String {
        match op {
            Op::Param(i) => format!("param{i}"),
            Op::Lit(l) => match self.lit(l).value {
                LitValue::Float(v) => format!("{v:?}"),
                LitValue::Int(v) => format!("{v}"),
                LitValue::Bool(v) => format!("{v}"),
            },
            Op::Const(s) => format!("const {}", self.sym(s)),
            Op::Math(m) => format!("math.{}", m.name()),
            Op::Cmp(c) => format!("cmp{}", c.symbol()),
            Op::Bit(b) => format!("bit{}", b.symbol()),
            Op::Cast(s) => format!("cast {}", self.sym(s)),
            Op::Call(s) => format!("call {}", self.sym(s)),
            Op::Jvp(s) => format!("jvp {}", self.sym(s)),
            Op::ConstCall(s) => format!("const_call {}", self.sym(s)),
            Op::Method(s) => format!("method .{}", self.sym(s)),
            Op::Field(s) => format!("field .{}", self.sym(s)),
            Op::ReadVar(v) => format!("read ${}", v.0),
            Op::Pop(v) => format!("pop ${}", v.0),
            Op::LoopIndex(i) => format!("index{i}"),
            Op::Repeat(s) => format!("repeat ;{}", self.sym(s)),
            other => format!("{other:?}").to_lowercase(),
        }
    }
}

fn ty_text(ty: Ty) -> &'static str {
    match ty {
        Ty::Float(FloatTy::F64) => "f64",
        Ty::Float(FloatTy::F32) => "f32",
        Ty::Float(FloatTy::Lit) => "float",
        Ty::Float(FloatTy::Generic(_)) => "T",
        Ty::Int => "int",
        Ty::Bool => "bool",
        Ty::Unknown => "?",
        Ty::Other => "other",
        Ty::Array(Elem::Float(_), 1) => "[float]",
        Ty::Array(Elem::Float(_), _) => "[[float]]",
        Ty::Array(Elem::Other, _) => "[?]",
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}
