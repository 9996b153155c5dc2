"""`interact` for the chapters' explorers: ipywidgets.interact without the nbclient widget stall.

    from _tools.explorer import interact          # a chapter runs from book/, so _tools is importable
    interact(show_step, t=widgets.IntSlider(value=30, min=1, max=69, description="frame t"));

It draws what ``ipywidgets.interact(f, **controls)`` draws (the controls, then what ``f`` displays,
redrawn whenever a control changes) and differs in one thing: who puts ``f``'s output into the
Output widget.

``ipywidgets.interact`` runs ``f`` inside ``with out:``: the kernel asks the *frontend* to route the
cell's display messages into the widget. When a notebook is executed by nbclient (jupyter-book,
nbconvert, ``run_notebook.py``), the frontend is nbclient's Output-widget mimic, which sends the
captured output back to the kernel as a comm message on the shell socket, from its IOPub task,
while its reply task is waiting on that same socket for the cell's ``execute_reply``.
jupyter_client sends through a blocking shadow of the asyncio socket, so pyzmq's event loop is not
told; the send drains ZeroMQ's edge-triggered notification for the reply that is arriving, and the
reply is only noticed when the poll's timeout, the cell timeout, runs out. The cell then "succeeds"
after exactly the timeout (the "widget stall"; upstream: jupyter/nbclient#312,
jupyter/jupyter_client#1059). When the explorer is the notebook's last cell, the kernel is still
handling that comm message (a few hundred kB of PNG) when nbclient shuts it down, and the interrupt
nbclient sends first lands in the handler: ``KeyboardInterrupt caught in kernel`` in the build log.

Here the kernel captures ``f``'s output itself (IPython's ``capture_output``) and sets the Output
widget's ``outputs``: the frontend only receives state and never sends anything back, in a running
notebook (JupyterLab, Notebook, VS Code) and under nbclient alike, and the built book shows the first
drawing under the controls from the saved widget state, as before.
"""
from __future__ import annotations

from typing import Any, Callable

import ipywidgets as widgets
from IPython.display import display
from IPython.utils.capture import capture_output
from ipywidgets.widgets.interaction import show_inline_matplotlib_plots


def _outputs(cap) -> tuple[dict[str, Any], ...]:
    """What `capture_output` caught, as nbformat output dicts (the Output widget's `outputs`)."""
    outs: list[dict[str, Any]] = []
    for name in ("stdout", "stderr"):
        text = getattr(cap, name)
        if text:
            outs.append({"output_type": "stream", "name": name, "text": text})
    for rich in cap.outputs:
        outs.append({"output_type": "display_data", "data": rich.data, "metadata": rich.metadata})
    return tuple(outs)


def interact(f: Callable[..., Any], **controls: widgets.ValueWidget) -> widgets.VBox:
    """Display ``controls`` and the output of ``f(**{name: control.value})``, redrawn on every change.

    ``controls`` are widgets (sliders, checkboxes); a control without a description gets its keyword
    as one, as in ``ipywidgets.interact``. Returns the displayed box.
    """
    for name, control in controls.items():
        if not control.description:
            control.description = name
    out = widgets.Output()

    def draw(change=None) -> None:
        with capture_output() as cap:
            f(**{name: control.value for name, control in controls.items()})
            show_inline_matplotlib_plots()   # a figure f drew but did not show, as interact does
        out.outputs = _outputs(cap)

    for control in controls.values():
        control.observe(draw, names="value")
    draw()
    box = widgets.VBox([*controls.values(), out])
    display(box)
    return box
