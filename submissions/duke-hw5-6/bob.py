# Intro to Deep Learning -- HW 5/6 written part
# Bob Baptiste
#
# 1A: h(t) = W^t h(0) + ...; with W = Q diag(lambda) Q^-1 every eigen-direction is scaled by lambda_i^t,
#     so the state stays bounded only if all |lambda_i| <= 1 (spectral radius at most 1).
# 1B: backprop multiplies diag(f'(a)) W once per step; |tanh'| <= 1 and |sigmoid'| <= 1/4, so the
#     product shrinks geometrically -> vanishing gradients.
# 1C: GRU = update gate z + reset gate r, h = (1-z)*h_old + z*h_candidate; no cell state and no output
#     gate, 3 weight blocks instead of the LSTM's 4.
# 3D: frequent small rewards give feedback at every step (easy credit assignment, low variance);
#     a rare big reward is discounted by gamma^k and is hard to find by exploration.

max_slope_tanh = 1
max_slope_sigmoid = 0.25

# problem 3
policy_A_gamma1 = "right"   # 4 > 1
policy_A_gamma0 = "stay"    # 1 > 0
gamma_A = "1/2"             # 1 = 4 g^2

gamma_B = 1 / 3             # g = 3 g^2
policy_B_below = "left"
policy_B_above = "right"

gamma_C_top = "6**(-1/3)"           # 1 = 6 g^3
gamma_C_bottom = 110 ** (-1 / 99)   # 1 = 110 g^99

# problem 5
hours = 12
pledge = "I adhered to the Duke Community Standard in the completion of this assignment. BB"
