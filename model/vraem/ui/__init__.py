"""The classroom browser app (``vraem ui``), built on Mesa's SolaraViz.

:mod:`vraem.ui.classroom` turns a scenario and slider settings into a model (plain functions),
:mod:`vraem.ui.render` draws the map and charts cheaply, :mod:`vraem.ui.app` is the Solara page and
:mod:`vraem.ui.server` starts it on 127.0.0.1. Importing this package does not import Solara.
"""
