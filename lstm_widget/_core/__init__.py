"""Kernel core: imports nothing of the widget. Sub-packages by job, lower ones never importing higher ones:

- ``validate``: argument checks shared by everything;
- ``model``: a user's model as one description of its recurrent modules, gate order per framework, weights per gate;
- ``importers``: Keras and ONNX models as torch modules (keras / onnx imported only when called);
- ``recording``: ``record`` (by observing the model's own forward), ``Stepper``, interventions, forward hooks for
  any layer, recorded data-set stores (zarr);
- ``analysis``: attribution, unit ranking, patterns, gate saturation;
- ``projection``: 2-D / 3-D projections of hidden states (scikit-learn API);
- ``vision``: the channel-grid maths for convolutional layers.
"""
