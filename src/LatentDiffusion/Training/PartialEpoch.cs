using System.Text.Json.Serialization;

namespace LatentDiffusion.Training;

/// <summary>
/// An epoch that a stop request interrupted between two batches, as a checkpoint records it: which epoch, how many of
/// its batches were trained, the running sums of the batch losses (and of the loss's parts, in the task's order) and
/// the epoch's permutation of the training set. With the model, Adam's state and both generators as they were after
/// the last of those batches, a resumed run trains the rest of the epoch exactly as an uninterrupted run would.
/// </summary>
/// <param name="Epoch">The interrupted epoch (1-based); the checkpoint's last finished epoch is the one before.</param>
/// <param name="Batches">Batches of it already trained (0 to all but one).</param>
/// <param name="LossSum">Sum of those batches' losses, as the float64 accumulator held it.</param>
/// <param name="PartNames">Names of the loss's parts (e.g. rec, kl), in the task's order; empty for a single loss.</param>
/// <param name="PartSums">Their sums, same order.</param>
/// <param name="Order">The epoch's permutation of the training examples, (N,).</param>
public sealed record PartialEpoch(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("batches")] int Batches,
    [property: JsonPropertyName("loss_sum")] double LossSum,
    [property: JsonPropertyName("part_names")] IReadOnlyList<string> PartNames,
    [property: JsonPropertyName("part_sums")] IReadOnlyList<double> PartSums,
    [property: JsonPropertyName("order")] long[] Order);
