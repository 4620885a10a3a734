"""The ``shortcut`` sampler: ``steps`` equal jumps from noise (t = 0) to an image (t = 1), each one network
evaluation, x_{t+d} = x_t + d s(x_t, t, d) with d = 1 / steps (Frans et al. 2024, section 3)."""


def shortcut(model, z, labels, settings):
    x, d = z, 1.0 / settings.steps
    for i in model.progress(range(settings.steps)):
        x = x + d * model.predict(x, i * d, labels, settings, step_size=d)
    return x
