"""fit's step reads like nanoGPT's (issue 21, part 4): small units around the loop, each taking what it needs."""

from __future__ import annotations

import ast
import inspect

from backproplab.train import checkpoint, loop


def test_no_hook_around_the_loop_takes_more_than_five_arguments():
    wide = []
    for module in (loop, checkpoint):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            # fit and save_checkpoint are public and keyword-only; _check_* validate fit's arguments at the edge
            if isinstance(node, ast.FunctionDef) and node.name not in ("fit", "save_checkpoint") \
                    and not node.name.startswith("_check"):
                args = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
                if len([a for a in args if a not in ("self", "cls")]) > 5:
                    wide.append(f"{module.__name__}.{node.name}({', '.join(args)})")
    assert wide == []


def test_the_checkpoint_knows_nothing_of_the_epochs_sums_or_the_divergence_guard():
    source = inspect.getsource(checkpoint)
    for word in ("loss_sum", ".correct", "Divergence", "EpochTotals", "guard"):
        assert word not in source, word


def test_the_step_is_forward_loss_backward_update_in_the_loop_body():
    body = inspect.getsource(loop.fit)
    step = [body.index(s) for s in ("net.forward(xb, train=True)", "loss_fn.value_and_gradient(z, yb)",
                                    "net.backward(dz, input_grad=False)", "optimizer.step(net.params, net.grads)")]
    assert step == sorted(step)
    assert "saver.on_step" not in body and "guard.before_update(totals" not in body, "no side effects nested in calls"
