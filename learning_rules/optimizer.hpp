// First-order optimisers over a fixed list of parameter arrays. The list is bound once
// (sizes fixed); step() then updates every array in place from its gradient.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace qrsim {

struct ParamRef {
    double* value;
    const double* grad;
    std::size_t size;
    // Weight-space size of one unit of this array. Gradients arrive already scaled to weight
    // space, so SGD ignores it; Adam steps about lr per parameter whatever the gradient's
    // size, so it steps lr / unit to move weights as fast in every parameterisation.
    double unit = 1.0;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual void step(const std::vector<ParamRef>& params, double learning_rate) = 0;
};

// Adam (Kingma & Ba 2015) with the usual bias correction.
class Adam final : public Optimizer {
public:
    explicit Adam(double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
    void step(const std::vector<ParamRef>& params, double learning_rate) override;

private:
    double beta1_, beta2_, eps_;
    long t_ = 0;
    std::vector<std::vector<double>> m_, v_;
};

// SGD with heavy-ball momentum.
class Sgd final : public Optimizer {
public:
    explicit Sgd(double momentum = 0.9);
    void step(const std::vector<ParamRef>& params, double learning_rate) override;

private:
    double momentum_;
    std::vector<std::vector<double>> velocity_;
};

// Signum (Bernstein et al., ICML 2018): w -= lr sign(m), m = beta m + (1 - beta) g. Every
// parameter moves by exactly lr / unit per step whatever its gradient's scale, which is
// what makes Adam work on spiking nets, for one accumulator per parameter: the update the
// learning firmware can afford (learn.update = "sign").
class Signum final : public Optimizer {
public:
    explicit Signum(double momentum = 0.9);
    void step(const std::vector<ParamRef>& params, double learning_rate) override;

private:
    double momentum_;
    std::vector<std::vector<double>> m_;
};

// "adam", "sgd" or "signum"; throws std::invalid_argument naming the field otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, double momentum);

}  // namespace qrsim
