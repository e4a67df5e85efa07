import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from resnet_book import diagrams, gradflow, models, plotting  # noqa: E402
from resnet_book.backend import keras, layers  # noqa: E402


def wrap(block, filters=16, channels=16, **options):
    inputs = keras.Input((32, 32, channels))
    return keras.Model(inputs, block(inputs, filters, name="block", **options))


@pytest.fixture(scope="module")
def resnet20():
    return models.cifar_resnet(20, input_shape=(32, 32, 3))


@pytest.fixture(scope="module")
def plain20():
    return models.plain_net(20, input_shape=(32, 32, 3))


def patches(fig, gid):
    return [patch for patch in fig.axes[0].patches if patch.get_gid() == gid]


def texts(fig):
    return [text.get_text() for text in fig.axes[0].texts]


PALETTE = {
    matplotlib.colors.to_hex(colour)
    for value in plotting.PALETTE.values()
    for colour in (value if isinstance(value, tuple) else (value,))
}


def colours(fig):
    """Every visible colour a figure paints: fills, edges, lines, texts and their boxes."""
    found = [fig.get_facecolor()]
    for ax in fig.axes:
        artists = [*ax.patches, *ax.lines, *ax.texts]
        artists += [text.arrow_patch for text in ax.texts if getattr(text, "arrow_patch", None)]
        artists += [text.get_bbox_patch() for text in ax.texts if text.get_bbox_patch()]
        for artist in artists:
            for getter in ("get_facecolor", "get_edgecolor", "get_color"):
                if hasattr(artist, getter):
                    found.append(getattr(artist, getter)())
    rgba = [matplotlib.colors.to_rgba(colour) for colour in found]
    return {matplotlib.colors.to_hex(colour) for colour in rgba if colour[3] > 0}


def check_book_figure(fig):
    assert matplotlib.colors.to_hex(fig.get_facecolor()) == "#ffffff"
    assert fig.get_figwidth() <= 7.05
    assert not plt.fignum_exists(fig.number)  # closed: a cell shows it once, as its value
    assert colours(fig) <= PALETTE, "a colour outside plotting.PALETTE"


# --- layer_label (the graph readings are tested in test_structure.py) -------------------------


def test_layer_label_writes_compact_notation():
    inputs = keras.Input((8, 8, 4))
    conv = layers.Conv2D(32, 3, strides=2, padding="same")
    conv(inputs)
    assert diagrams.layer_label(conv) == "3×3, 32, /2"
    assert diagrams.layer_label(layers.Dense(10)) == "fc 10"
    assert diagrams.layer_label(layers.BatchNormalization()) == "BN"
    assert diagrams.layer_label(layers.MaxPooling2D(1, strides=2)) == "/2"
    assert diagrams.layer_label(layers.AveragePooling2D(1, strides=2)) == "/2"
    assert diagrams.layer_label(layers.MaxPooling2D(3, strides=2)) == "3×3 max, /2"
    assert diagrams.layer_label(layers.GlobalAveragePooling2D()) == "pool"


# --- block_diagram ----------------------------------------------------------------------------


def test_block_diagram_of_residual_block():
    fig = diagrams.block_diagram(wrap(models.residual_block))
    assert len(patches(fig, "conv")) == 2
    assert len(patches(fig, "add")) == 1
    (shortcut,) = patches(fig, "shortcut")
    assert shortcut.get_linestyle() == "-"  # the identity keeps the shape
    assert r"$\mathcal{F}(x)+x$" in texts(fig)
    check_book_figure(fig)


def test_block_diagram_labels_the_channels_of_input_and_output_only_when_asked():
    bottleneck = wrap(models.bottleneck_block, 4, channels=16)
    assert not any(
        t.get_gid() == "channels" for t in diagrams.block_diagram(bottleneck).axes[0].texts
    )
    fig = diagrams.block_diagram(bottleneck, channels=True)
    labels = [t for t in fig.axes[0].texts if t.get_gid() == "channels"]
    assert [t.get_text() for t in labels] == ["16-d", "16-d"]  # 4 * 4 channels out
    boxes = patches(fig, "conv") + patches(fig, "layer")
    bottom, top = (label.get_position()[1] for label in labels)
    assert bottom < min(box.get_y() for box in boxes)
    assert top > max(box.get_y() + box.get_height() for box in boxes)
    check_book_figure(fig)


def test_block_diagram_of_projection_block_draws_the_projection_dashed():
    fig = diagrams.block_diagram(wrap(models.residual_block, 32, stride=2, shortcut="projection"))
    assert len(patches(fig, "conv")) == 3
    assert "1×1, 32, /2" in texts(fig) and "3×3, 32, /2" in texts(fig)
    (shortcut,) = patches(fig, "shortcut")
    assert shortcut.get_linestyle() == "--"
    check_book_figure(fig)


def test_block_diagram_of_option_a_draws_subsample_and_zero_pad():
    fig = diagrams.block_diagram(wrap(models.residual_block, 32, stride=2))
    assert len(patches(fig, "conv")) == 2
    assert "/2" in texts(fig) and diagrams.SYMBOLS["ZeroPadChannels"] in texts(fig)
    assert patches(fig, "shortcut")[0].get_linestyle() == "--"
    # The strided convolution's explicit padding is part of its box, not a box of its own.
    assert len(patches(fig, "layer")) == 6  # BN, ReLU, BN, ReLU, /2, [·, 0]
    assert not any("pad" in text for text in texts(fig))


def test_block_diagram_of_plain_block_has_no_shortcut():
    fig = diagrams.block_diagram(wrap(models.plain_block))
    assert patches(fig, "shortcut") == [] and patches(fig, "add") == []
    assert len(patches(fig, "conv")) == 2
    assert not any("mathcal" in text for text in texts(fig))
    check_book_figure(fig)


def test_block_diagram_of_preactivation_block_ends_at_the_addition():
    fig = diagrams.block_diagram(wrap(models.preactivation_block))
    (add,) = patches(fig, "add")
    boxes = patches(fig, "conv") + patches(fig, "layer")
    assert len(boxes) == 6  # BN, ReLU, conv twice
    assert all(box.get_y() + box.get_height() < add.center[1] for box in boxes)
    assert len(patches(fig, "shortcut")) == 1
    check_book_figure(fig)


def test_block_diagram_rejects_bad_models():
    with pytest.raises(ValueError, match="model must be a keras.Model. Received: model='block'"):
        diagrams.block_diagram("block")
    inputs = keras.Input((8, 8, 4))
    x = models.residual_block(inputs, 4, name="one")
    two_blocks = keras.Model(inputs, models.residual_block(x, 4, name="two"))
    with pytest.raises(ValueError, match="at most one Add.*2 Add layers"):
        diagrams.block_diagram(two_blocks)


# --- stacks_diagram ---------------------------------------------------------------------------


def test_stacks_diagram_of_resnet20(plain20, resnet20):
    fig = diagrams.stacks_diagram(plain20, resnet20)
    convs = patches(fig, "conv")
    assert len(convs) == 2 * 19
    # each row's stem, its leftmost box, is grey: it belongs to no stage
    for bottom in (True, False):
        row = sorted((c for c in convs if (c.get_y() < 1) == bottom), key=lambda c: c.get_x())
        assert matplotlib.colors.to_hex(row[0].get_facecolor()) == plotting.PALETTE["marked"]
        assert all(
            matplotlib.colors.to_hex(c.get_facecolor()) != plotting.PALETTE["marked"]
            for c in row[1:]
        )
    arcs = patches(fig, "shortcut")
    assert len(arcs) == 9
    assert [arc.get_linestyle() for arc in arcs].count("--") == 2
    labels = texts(fig)
    assert labels.count("fc 10") == 2 and labels.count("pool") == 2
    assert labels.count("3×3, 32, /2") == 2 and labels.count("3×3, 64, /2") == 2
    check_book_figure(fig)


def test_stacks_diagram_leaves_projection_convs_in_the_shortcut(plain20):
    fig = diagrams.stacks_diagram(plain20, models.cifar_resnet(20, "projection"))
    assert len(patches(fig, "conv")) == 2 * 19
    assert len(patches(fig, "shortcut")) == 9


def test_stacks_diagram_rejects_different_networks(resnet20):
    with pytest.raises(ValueError, match="residual_model must have the weighted layers"):
        diagrams.stacks_diagram(models.plain_net(8), resnet20)
    with pytest.raises(ValueError, match="plain_model must be a keras.Model. Received: plain"):
        diagrams.stacks_diagram(None, resnet20)
    with pytest.raises(ValueError, match="residual_model must be a keras.Model"):
        diagrams.stacks_diagram(resnet20, [resnet20])


# --- shortcut_rows_diagram --------------------------------------------------------------------


def first_stage(block, num_blocks=2):
    """A stem and ``num_blocks`` blocks on 16 channels, ended as the book's CIFAR networks end."""
    inputs = keras.Input((8, 8, 16))
    x = models.conv(inputs, 16, 3, 1, "stem_conv")
    if block is models.residual_block:
        x = layers.ReLU(name="stem_relu")(models.batchnorm(x, "stem_bn"))
    x = models.stage(x, block, 16, num_blocks)
    if block is models.preactivation_block:
        x = layers.ReLU(name="final_relu")(models.batchnorm(x, "final_bn"))
    return keras.Model(inputs, x)


def centres(ax, gid):
    return [
        patch.center[0] if hasattr(patch, "center") else patch.get_x() + patch.get_width() / 2
        for patch in ax.patches
        if patch.get_gid() == gid
    ]


def test_shortcut_rows_diagram_aligns_the_layers_and_moves_each_addition():
    original, preactivation = (
        first_stage(models.residual_block),
        first_stage(models.preactivation_block),
    )
    fig = diagrams.shortcut_rows_diagram(original, preactivation)
    assert len(fig.axes) == 2  # one row each, top to bottom
    for ax in fig.axes:
        kinds = [patch.get_gid() for patch in ax.patches]
        assert kinds.count("conv") == 1 + 2 * 2  # the stem and two per block
        assert kinds.count("layer") == 2 * 5  # a BN and a ReLU after each convolution
        assert kinds.count("add") == 2 and kinds.count("shortcut") == 2
        assert [t.get_text() for t in ax.texts].count("+") == 2
        assert all(p.get_linestyle() == "-" for p in ax.patches if p.get_gid() == "shortcut")
    top, bottom = fig.axes
    assert centres(top, "conv") == centres(bottom, "conv")  # the same columns
    assert centres(top, "layer") == centres(bottom, "layer")
    # each addition sits one layer earlier in the pre-activation row, in front of the BN
    moved = zip(centres(bottom, "add"), centres(top, "add"), strict=True)
    assert all(later < earlier for later, earlier in moved)
    check_book_figure(fig)


def test_shortcut_rows_diagram_draws_a_plain_row_without_arcs(plain20):
    fig = diagrams.shortcut_rows_diagram(plain20)
    assert len(fig.axes) == 1
    assert centres(fig.axes[0], "shortcut") == [] and centres(fig.axes[0], "add") == []
    assert len(centres(fig.axes[0], "conv")) == 19
    check_book_figure(fig)


def test_shortcut_rows_diagram_rejects_bad_models(resnet20):
    with pytest.raises(ValueError, match="models must be at least one keras.Model"):
        diagrams.shortcut_rows_diagram()
    with pytest.raises(ValueError, match=r"models\[1\] must be a keras.Model"):
        diagrams.shortcut_rows_diagram(resnet20, "resnet20")
    shorter = first_stage(models.residual_block, num_blocks=1)
    with pytest.raises(
        ValueError, match=r"models\[1\] must be a keras.Model showing the 15 layers"
    ):
        diagrams.shortcut_rows_diagram(first_stage(models.residual_block), shorter)
    for shade in ([15], [-1], ["stem_bn"]):
        with pytest.raises(ValueError, match="shade must be column numbers from 0 to 14"):
            diagrams.shortcut_rows_diagram(first_stage(models.residual_block), shade=shade)


def arrow_xs(arrow):
    """The x of each point an arrow's line and head pass through, in order."""
    path = arrow.get_path()
    return path.vertices[path.codes != Path.CLOSEPOLY, 0]  # the head's polygon is closed


def test_shortcut_rows_diagram_zooms_in_on_a_stretch_of_columns():
    rows = first_stage(models.residual_block), first_stage(models.preactivation_block)
    # block 1's second convolution to block 2's first: conv BN [+] ReLU conv above
    # conv [+] BN ReLU conv
    fig = diagrams.shortcut_rows_diagram(*rows, shade=[7, 8], columns=range(6, 10))
    full = diagrams.shortcut_rows_diagram(*rows)
    assert fig.get_figwidth() < full.get_figwidth() / 2
    # drawn larger, text and all, to ROWS_ZOOMED inches
    zoomed = fig.get_figwidth() * fig.dpi / full.dpi
    assert zoomed == pytest.approx(diagrams.ROWS_ZOOMED)
    marked = matplotlib.colors.to_rgba(plotting.PALETTE["marked"])
    leaving = []  # where each row's second shortcut leaves
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.texts if t.get_gid() in ("conv", "layer")]
        assert labels == ["3×3\n16", "BN", "ReLU", "3×3\n16"]
        boxes = [p for p in ax.patches if p.get_gid() in ("conv", "layer")]
        assert [box.get_facecolor() == marked for box in boxes] == [False, True, True, False]
        (plus,) = centres(ax, "add")  # block 1's addition; block 2's lies right of the stretch
        (row,) = [arrow_xs(p) for p in ax.patches if p.get_gid() == "flow"]
        incoming, outgoing = [arrow_xs(p) for p in ax.patches if p.get_gid() == "shortcut"]
        # from the left edge up into the addition, and from the row off at the right edge
        assert incoming.min() == pytest.approx(row.min())
        assert incoming.max() == pytest.approx(plus, abs=0.05)
        assert outgoing.max() == pytest.approx(row.max(), abs=0.02)
        leaving.append(outgoing[0])  # the path starts where the shortcut leaves
    (original_plus,), (pre_plus,) = (centres(ax, "add") for ax in fig.axes)
    assert pre_plus < original_plus  # one column earlier, in front of the BN
    # (b)'s next shortcut leaves from the raw sum, (a)'s after the ReLU that follows it
    assert leaving[1] < original_plus < leaving[0]
    check_book_figure(fig)
    # block 1's branch alone: its shortcut passes under it, block 2's is not drawn
    under = diagrams.shortcut_rows_diagram(rows[0], columns=range(3, 6)).axes[0]
    (row,) = [arrow_xs(p) for p in under.patches if p.get_gid() == "flow"]
    (arc,) = [arrow_xs(p) for p in under.patches if p.get_gid() == "shortcut"]
    assert arc.min() == pytest.approx(row.min()) and arc.max() == pytest.approx(row.max(), abs=0.02)
    assert centres(under, "add") == []
    for columns in (range(0, 16), range(3, 3), range(0, 10, 2), [6, 7]):
        with pytest.raises(ValueError, match="columns must be a range of column numbers"):
            diagrams.shortcut_rows_diagram(*rows, columns=columns)


def test_shortcut_rows_diagram_tints_each_blocks_span_when_asked():
    rows = first_stage(models.residual_block), first_stage(models.preactivation_block)
    plain = diagrams.shortcut_rows_diagram(*rows, shade=[7, 8], columns=range(6, 10))
    assert all(centres(ax, "block") == [] for ax in plain.axes)  # none by default
    fig = diagrams.shortcut_rows_diagram(*rows, shade=[7, 8], columns=range(6, 10), blocks=True)
    tints = [matplotlib.colors.to_rgba(colour) for colour in plotting.PALETTE["blocks"]]
    for ax in fig.axes:
        first, second = sorted(
            (p for p in ax.patches if p.get_gid() == "block"), key=lambda p: p.get_x()
        )
        assert [first.get_facecolor(), second.get_facecolor()] == tints[:2]
        (row,) = [arrow_xs(p) for p in ax.patches if p.get_gid() == "flow"]
        _, outgoing = [arrow_xs(p) for p in ax.patches if p.get_gid() == "shortcut"]
        # block 1 from the left edge to where block 2's shortcut leaves, block 2 on to the end
        assert first.get_x() == pytest.approx(row.min())
        assert first.get_x() + first.get_width() == pytest.approx(outgoing[0])
        assert second.get_x() == pytest.approx(outgoing[0])
        assert second.get_x() + second.get_width() == pytest.approx(row.max(), abs=0.02)
        assert all(
            p.get_zorder() < box.get_zorder()
            for p in (first, second)
            for box in ax.patches
            if box.get_gid() in ("conv", "layer")
        )
        boxes = [p for p in ax.patches if p.get_gid() in ("conv", "layer")]
        bn = boxes[1]  # the shaded BN: block 1's in (a), block 2's in (b)
        inside_first = bn.get_x() + bn.get_width() < second.get_x()
        assert inside_first == (ax is fig.axes[0])
    check_book_figure(fig)
    with pytest.raises(ValueError, match="blocks must be True or False"):
        diagrams.shortcut_rows_diagram(*rows, blocks="yes")


def test_shortcut_rows_diagram_shades_the_columns_asked_for_in_every_row():
    rows = first_stage(models.residual_block), first_stage(models.preactivation_block)
    fig = diagrams.shortcut_rows_diagram(*rows, shade=[1, 2, 5])
    for ax in fig.axes:
        boxes = [p for p in ax.patches if p.get_gid() in ("conv", "layer")]
        marked = matplotlib.colors.to_rgba(plotting.PALETTE["marked"])
        grey = [i for i, box in enumerate(boxes) if box.get_facecolor() == marked]
        assert grey == [1, 2, 5]
        # a bracket above each run of adjacent shaded boxes: [1, 2] and [5]
        spans = sorted((min(line.get_xdata()), max(line.get_xdata())) for line in ax.lines)
        edges = [(box.get_x(), box.get_x() + box.get_width()) for box in boxes]
        expected = [edges[1][0], edges[2][1], *edges[5]]
        assert [x for span in spans for x in span] == pytest.approx(expected)
        top = max(box.get_y() + box.get_height() for box in boxes)
        assert all(min(line.get_ydata()) > top for line in ax.lines)


# --- stage_table ---------------------------------------------------------------------------


def rows(table):
    keys = ("output_size", "filters", "weighted_layers", "blocks")
    return [tuple(row[key] for key in keys) for row in table]


def test_stage_table_of_resnet20_is_the_papers_table(resnet20):
    table = diagrams.stage_table(resnet20)
    assert [row["stage"] for row in table] == [1, 2, 3]
    assert rows(table) == [((32, 32), 16, 7, 3), ((16, 16), 32, 6, 3), ((8, 8), 64, 6, 3)]


def test_stage_table_counts_1_plus_2n_layers_for_resnet56():
    table = diagrams.stage_table(models.cifar_resnet(56, input_shape=(32, 32, 3)))
    assert [row["weighted_layers"] for row in table] == [19, 18, 18]
    assert [row["blocks"] for row in table] == [9, 9, 9]


def test_stage_table_of_plain_net_has_no_blocks(plain20):
    assert rows(diagrams.stage_table(plain20)) == [
        ((32, 32), 16, 7, 0),
        ((16, 16), 32, 6, 0),
        ((8, 8), 64, 6, 0),
    ]


def test_stage_table_rejects_bad_models():
    with pytest.raises(ValueError, match="model must be a keras.Model. Received: model=20"):
        diagrams.stage_table(20)
    inputs = keras.Input((None, None, 3))
    any_size = keras.Model(inputs, layers.Conv2D(4, 3)(inputs))
    with pytest.raises(ValueError, match="known input size"):
        diagrams.stage_table(any_size)


def test_layer_label_of_a_subclass_is_its_parent_s_symbol():
    class Quiet(layers.ReLU):
        pass

    assert diagrams.layer_label(Quiet()) == "ReLU"
    assert diagrams.layer_label(models.ZeroPadChannels(4)) == diagrams.SYMBOLS["ZeroPadChannels"]


# --- draw_blocks and draw_data_parallel -------------------------------------------------------


def test_draw_blocks_draws_every_operation_of_each_block_and_the_shortcuts():
    fig = diagrams.draw_blocks(gradflow.LAYOUT)
    texts = [text.get_text() for text in fig.axes[0].texts]
    symbols = [
        diagrams.OPERATION_SYMBOLS[op] for layout in gradflow.LAYOUT.values() for op in layout
    ]
    assert [text for text in texts if text] == symbols
    shortcut = matplotlib.colors.to_hex(plotting.PALETTE["shortcut"])
    drawn = [
        line for line in fig.axes[0].lines if matplotlib.colors.to_hex(line.get_color()) == shortcut
    ]
    assert len(drawn) == sum("add" in layout for layout in gradflow.LAYOUT.values())
    check_book_figure(fig)


def test_draw_blocks_letters_each_block_above_it_only_when_asked():
    lettered = diagrams.draw_blocks(gradflow.LAYOUT, letters=True)
    (ax,) = lettered.axes
    marks = [text for text in ax.texts if text.get_text().startswith("(")]
    assert [text.get_text() for text in marks] == ["(a)", "(b)", "(c)"][: len(gradflow.LAYOUT)]
    top = max(
        patch.get_path().transformed(patch.get_patch_transform()).get_extents().y1
        for patch in ax.patches
    )
    for column, mark in enumerate(marks):
        x, y = mark.get_position()
        assert 3.0 * column - 1.0 <= x < 3.0 * column  # at the block's top left
        assert y > top + 0.5 and mark.get_fontweight() == "bold"
    assert ax.get_ylim()[1] > max(mark.get_position()[1] for mark in marks)
    plain = diagrams.draw_blocks(gradflow.LAYOUT)
    assert not any(text.get_text().startswith("(") for text in plain.axes[0].texts)
    check_book_figure(lettered)
    with pytest.raises(ValueError, match="letters must be True or False"):
        diagrams.draw_blocks(gradflow.LAYOUT, letters="yes")


def test_draw_blocks_rejects_unknown_operations_and_empty_layouts():
    with pytest.raises(ValueError, match=r"layouts\['odd'\] must be operations from"):
        diagrams.draw_blocks({"odd": ("weight", "dropout")})
    with pytest.raises(ValueError, match="layouts={}"):
        diagrams.draw_blocks({})
    with pytest.raises(ValueError, match=r"layouts\['none'\]"):
        diagrams.draw_blocks({"none": ()})


def test_data_parallel_picture_has_a_share_and_an_update_per_replica():
    fig = diagrams.draw_data_parallel(3)
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert ["$x_1$", "$x_2$", "$x_3$"] == [t for t in texts if t.startswith("$x_")]
    assert sum(t == r"$\theta - \eta\,\bar g$" for t in texts) == 3
    check_book_figure(fig)
    assert len(diagrams.draw_data_parallel(np.int64(8)).axes[0].patches) == 8
    with pytest.raises(ValueError, match="in 2..8. Received: replicas=1"):
        diagrams.draw_data_parallel(1)


def test_blocks_side_by_side_share_a_scale_and_keep_each_blocks_drawing():
    plain, residual = wrap(models.plain_block), wrap(models.residual_block)
    fig = diagrams.blocks_diagram(plain, residual)
    alone = [diagrams.block_diagram(model) for model in (plain, residual)]
    assert len(fig.axes) == 2
    assert fig.get_figwidth() == pytest.approx(sum(f.get_figwidth() for f in alone))
    for ax, single in zip(fig.axes, alone, strict=True):
        assert [t.get_text() for t in ax.texts] == [t.get_text() for t in single.axes[0].texts]
    assert [len([p for p in ax.patches if p.get_gid() == "shortcut"]) for ax in fig.axes] == [0, 1]
    check_book_figure(fig)
    with pytest.raises(ValueError, match="models"):
        diagrams.blocks_diagram()


def test_sliding_window_draws_the_articles_example_with_its_padding():
    fig = diagrams.sliding_window_diagram([1, 2, 3, 4], [0.1, 0.2], padding=1)
    cells = {
        gid: [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]
        for gid in ("input", "output", "sum")
    }
    assert cells == {
        "input": ["1", "2", "3", "4", "0"],
        "output": ["0.5", "0.8", "1.1", "0.4"],
        "sum": ["1.5", "2.8", "4.1", "4.4"],
    }
    dashed = [
        p for p in fig.axes[0].patches if p.get_gid() == "input" and p.get_linestyle() == "--"
    ]
    assert len(dashed) == 1
    assert len([line for line in fig.axes[0].lines if line.get_gid() == "window"]) == 4 * 2
    # each sum is fed twice: by its output (the branch) and by its input (the shortcut)
    feeds = [p.get_gid() for p in fig.axes[0].patches if p.get_gid() in ("branch", "shortcut")]
    assert sorted(feeds) == ["branch"] * 4 + ["shortcut"] * 4
    unpadded = diagrams.sliding_window_diagram([1, 2, 3, 4], [0.1, 0.2])
    outputs = [t.get_text() for t in unpadded.axes[0].texts if t.get_gid() == "output"]
    assert outputs == ["0.5", "0.8", "1.1"]
    check_book_figure(fig)
    for bad in ({"x": []}, {"kernel": [1] * 6}, {"padding": -1}):
        arguments = {"x": [1, 2, 3, 4], "kernel": [0.1, 0.2], **bad}
        with pytest.raises(ValueError, match=next(iter(bad))):
            diagrams.sliding_window_diagram(**arguments)


@pytest.mark.parametrize("blocks", [1, 3, 4])
def test_the_unraveled_view_draws_every_path_once_shortest_first(blocks):
    fig = diagrams.unraveled_diagram(blocks)
    lengths = [int(t.get_text()) for t in fig.axes[0].texts if t.get_gid() == "length"]
    assert len(lengths) == 2**blocks and lengths == sorted(lengths)
    branches = [p for p in fig.axes[0].patches if p.get_gid() == "branch"]
    assert len(branches) == sum(lengths) == blocks * 2 ** (blocks - 1)
    check_book_figure(fig)


def test_the_unraveled_view_refuses_a_page_it_cannot_fill():
    with pytest.raises(ValueError, match="blocks"):
        diagrams.unraveled_diagram(6)


def test_the_step_triangle_draws_w_the_step_and_their_sum_with_a_right_angle():
    fig = diagrams.step_triangle_diagram()
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "label"]
    assert labels == [r"$W$", r"$-\eta g$", r"$W - \eta g$"]
    assert [line.get_gid() for line in fig.axes[0].lines] == ["right-angle"]
    check_book_figure(fig)
    for bad in ({"length": 0}, {"step": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            diagrams.step_triangle_diagram(**bad)


def test_the_padding_windows_diagram_fills_the_kept_rows_and_both_windows_centres():
    fig = diagrams.padding_windows_diagram([1, 3, 5, 7], [0, 2, 4, 6])
    labels = [text.get_text() for text in fig.axes[0].texts]
    assert labels.count("0") == 3 and '"same"' in labels and "by hand" in labels
    dashed = [p for p in fig.axes[0].patches if p.get_linestyle() == "--"]
    assert len(dashed) == 3  # one zero after "same", one on each side by hand


@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(same_centres=[], padded_centres=[0]), "same_centres"),
        (dict(same_centres=[1], padded_centres=[8]), "padded_centres"),
        (dict(same_centres=[1], padded_centres=[0], size=7), "size"),
    ],
)
def test_the_padding_windows_diagram_rejects_bad_input(bad, name):
    with pytest.raises(ValueError, match=name):
        diagrams.padding_windows_diagram(**bad)
