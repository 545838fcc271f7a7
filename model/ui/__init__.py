"""The classroom browser app (``vraem ui``), built on Mesa's SolaraViz.

:mod:`model.ui.classroom` turns a scenario and slider settings into a model (plain functions),
:mod:`model.ui.render` draws the map and charts cheaply, :mod:`model.ui.app` is the Solara page and
:mod:`model.ui.server` starts it on 127.0.0.1. Importing this package does not import Solara.
"""
