"""Screen copies of the figures, laid out so the browser draws each chart once.

Streamlit remounts a changed chart and hands Plotly.react a deep copy of it; a figure that
leaves anything for plotly.js to settle (width, height, automatic margins, a template, typed
arrays, ``meta`` objects) is drawn two or three times.  The modules here write those values in
beforehand and reuse built figures when only a few numbers change:

- :mod:`.layout`: a figure's dict for the screen (:func:`~.layout.screen_dict`) and back;
- :mod:`.flat_template`: the template written into the figure;
- :mod:`.label_margin`: the left margin plotly.js would compute for the row labels;
- :mod:`.km`: a new CI type's bands written into the cached Kaplan-Meier figure;
- :mod:`.matching`: a new caliper's numbers written into the cached Matching-page figures.

Only :mod:`board.figs` uses this package; pages draw through ``figs.show``.  Exported figures
never come from here.
"""
